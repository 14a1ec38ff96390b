import { existsSync, readFileSync, renameSync, writeFileSync } from 'node:fs'
import { LabStateError } from '../errors/lab-state-error.js'
import { controllerPaths } from './controller-paths.js'
import type { Container, PodTemplate, Service } from './kube-objects.js'

/** A pod the kubelet runs (a Deployment's), as Services see it. */
export type RunningPod = { namespace: string; name: string; podIp: string; template: PodTemplate }

export type ServicePortAddress = { name?: string; port: number; targetPort: number }
/** Where a Service answers in the lab: its pod's IP, each Service port mapped to the container port. */
export type ServiceAddress = { namespace: string; name: string; podIp: string; ports: ServicePortAddress[] }

/** Pure. A named or numbered target port, resolved against the pod's container ports. */
export function resolveTargetPort(target: number | string | undefined, servicePort: number, containers: readonly Container[]): number | undefined {
  if (target === undefined) return servicePort
  if (typeof target === 'number') return target
  if (/^\d+$/.test(target)) return Number(target)
  return containers.flatMap((c) => c.ports ?? []).find((p) => p.name === target)?.containerPort
}

const selects = (selector: Record<string, string> | undefined, labels: Record<string, string> | undefined) =>
  selector !== undefined && Object.keys(selector).length > 0 && Object.entries(selector).every(([k, v]) => labels?.[k] === v)

/** Pure. Each Service whose selector matches a running pod → that pod's address (no kube-proxy: names resolve to pod IPs). */
export function serviceAddresses(services: readonly Service[], pods: readonly RunningPod[]): ServiceAddress[] {
  const addresses: ServiceAddress[] = []
  for (const service of services) {
    const namespace = service.metadata.namespace ?? 'default'
    const pod = pods.find((p) => p.namespace === namespace && selects(service.spec?.selector, p.template.metadata?.labels))
    if (!pod) continue
    const containers = pod.template.spec?.containers ?? []
    const ports = (service.spec?.ports ?? []).flatMap((p) => {
      const targetPort = resolveTargetPort(p.targetPort, p.port, containers)
      return targetPort === undefined ? [] : [{ ...(p.name ? { name: p.name } : {}), port: p.port, targetPort }]
    })
    addresses.push({ namespace, name: service.metadata.name, podIp: pod.podIp, ports })
  }
  return addresses.sort((a, b) => `${a.namespace}/${a.name}`.localeCompare(`${b.namespace}/${b.name}`))
}

/** Pure. A pod's /etc/hosts: its own name, then every Service by its cluster DNS names (short names for its namespace). */
export function podHostsFile(namespace: string, podName: string, podIp: string | undefined, addresses: readonly ServiceAddress[]): string {
  const lines = ['127.0.0.1\tlocalhost', '::1\tlocalhost ip6-localhost ip6-loopback']
  if (podIp) lines.push(`${podIp}\t${podName}`)
  for (const a of addresses) {
    const names = [`${a.name}.${a.namespace}.svc.cluster.local`, `${a.name}.${a.namespace}.svc`, `${a.name}.${a.namespace}`]
    if (a.namespace === namespace) names.push(a.name)
    lines.push(`${a.podIp}\t${names.join(' ')}`)
  }
  return `${lines.join('\n')}\n`
}

/** Rewrites the file in place (same inode) when its content changes: it is bind-mounted into running pods, and a rename would leave them the old inode. */
export function writeInPlace(file: string, content: string): boolean {
  if (existsSync(file) && readFileSync(file, 'utf8') === content) return false
  writeFileSync(file, content)
  return true
}

export function writeServiceAddresses(stateDir: string, addresses: readonly ServiceAddress[]): void {
  const file = controllerPaths(stateDir).services
  const text = `${JSON.stringify(addresses, null, 2)}\n`
  if (existsSync(file) && readFileSync(file, 'utf8') === text) return
  writeFileSync(`${file}.tmp`, text)
  renameSync(`${file}.tmp`, file)
}

/**
 * Where Service `namespace/service` answers on `port` (a Service port number or name) in the lab: the pod IP and
 * container port behind it, e.g. the registry's debug port for a metrics test.
 */
export function labServiceAddress(stateDir: string, namespace: string, service: string, port: number | string): { host: string; port: number } {
  const file = controllerPaths(stateDir).services
  const addresses = existsSync(file) ? (JSON.parse(readFileSync(file, 'utf8')) as ServiceAddress[]) : []
  const address = addresses.find((a) => a.namespace === namespace && a.name === service)
  const match = address?.ports.find((p) => p.port === port || p.name === port)
  if (!address || !match) {
    throw new LabStateError(`Service ${namespace}/${service} port ${port} has no running pod in the lab`, {
      path: file, hint: 'apply the Service and a Deployment it selects, whose image the lab can run, and wait for it to be ready',
    })
  }
  return { host: address.podIp, port: match.targetPort }
}
