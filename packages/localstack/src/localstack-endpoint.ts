import { HomelabError, type KubeClient, type ToolContext } from '@homelab/core'
import { LocalstackError } from './errors/localstack-error.js'

/**
 * Where verify talks to LocalStack: the public HTTPS URL, the IP to connect to for its host (so verify never
 * depends on DNS), and the CA to trust (undefined: the system roots).
 */
export type LocalstackEndpoint = { url: string; connectTo: string; ca: string | undefined }

export const endpointHost = (endpoint: LocalstackEndpoint) => new URL(endpoint.url).hostname

/** The Traefik Service's LoadBalancer IP, as K3s's service LB publishes it. */
async function traefikIp(kube: KubeClient, ref: { namespace: string; name: string }): Promise<string> {
  const service = await kube.get({ apiVersion: 'v1', kind: 'Service', ...ref })
  const ingress = (service?.['status'] as { loadBalancer?: { ingress?: { ip?: string }[] } } | undefined)?.loadBalancer?.ingress
  const ip = ingress?.find((i) => i.ip)?.ip
  if (ip) return ip
  throw new LocalstackError(`Service ${ref.namespace}/${ref.name} has no LoadBalancer IP, so the LocalStack host cannot be reached without DNS`, {
    key: 'ingress.ip',
    hint: 'set ingress.ip in homelab.yaml to the Traefik load balancer address',
  })
}

/** The homelab CA's certificate from the Secret cert-manager keeps it in (mode ca); acme certificates chain to public roots. */
async function homelabCa(ctx: ToolContext): Promise<string | undefined> {
  const { tls } = ctx.config
  if (tls.mode !== 'ca') return undefined
  const secret = await ctx.kube().get({ apiVersion: 'v1', kind: 'Secret', namespace: tls.ca.namespace, name: tls.ca.secretName })
  const data = (secret?.['data'] ?? {}) as Record<string, string>
  const pem = data['ca.crt'] ?? data['tls.crt']
  if (pem) return Buffer.from(pem, 'base64').toString('utf8')
  throw new HomelabError(`Secret ${tls.ca.namespace}/${tls.ca.secretName} has no ca.crt, so the LocalStack certificate cannot be checked`, {
    key: 'tls.ca.secretName',
    hint: 'run the registry bootstrap first: it creates the homelab CA',
  })
}

export async function localstackEndpointFromCluster(ctx: ToolContext): Promise<LocalstackEndpoint> {
  const { config } = ctx
  const connectTo = config.ingress.ip ?? (await traefikIp(ctx.kube(), config.ingress.traefikService))
  return { url: `https://${config.localstack.host}`, connectTo, ca: await homelabCa(ctx) }
}
