import type { HomelabConfig, KubeClient } from '@homelab/core'
import { IngressAddressError } from './errors/ingress-address-error.js'

type ServiceStatus = { status?: { loadBalancer?: { ingress?: { ip?: string; hostname?: string }[] } } }

/** `ingress.ip`, or the Traefik Service's load balancer address (K3s's service LB writes it there). */
export async function resolveIngressIp(config: HomelabConfig, kube: () => KubeClient): Promise<{ ip: string; source: string }> {
  if (config.ingress.ip) return { ip: config.ingress.ip, source: 'ingress.ip' }
  const { namespace, name } = config.ingress.traefikService
  const where = `Service ${namespace}/${name}`
  const hint = 'set ingress.ip in homelab.yaml, or ingress.traefikService to the Service that fronts Traefik'
  const service = (await kube().get({ apiVersion: 'v1', kind: 'Service', namespace, name })) as (ServiceStatus & object) | undefined
  if (!service) throw new IngressAddressError(`no ingress address: ingress.ip is not set and ${where} does not exist`, { key: 'ingress.ip', hint })
  const ip = service.status?.loadBalancer?.ingress?.[0]?.ip
  if (!ip) throw new IngressAddressError(`no ingress address: ingress.ip is not set and ${where} has no status.loadBalancer.ingress[0].ip yet`, { key: 'ingress.ip', hint })
  return { ip, source: `${where} status.loadBalancer` }
}
