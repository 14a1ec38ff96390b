import type { ClusterSnapshot } from './cluster-snapshot.js'
import { keyOf, type Container, type KeyRef, type Service } from './kube-objects.js'

export type PodIdentity = { namespace: string; name: string; podIp?: string }
export type ContainerEnv = { env: Record<string, string>; waitingFor: string[] }

/** Pure. Kubernetes' `$(VAR)` expansion in `value`: earlier variables only, `$$(VAR)` stays literal, unknown stays as written. */
export function expandEnvValue(value: string, defined: Readonly<Record<string, string>>): string {
  return value.replace(/\$\$|\$\(([A-Za-z_][A-Za-z0-9_]*)\)/g, (match, name: string | undefined) => {
    if (match === '$$') return '$'
    return name !== undefined && defined[name] !== undefined ? defined[name] : match
  })
}

/** Pure. The `<SVC>_SERVICE_HOST`, `<SVC>_PORT…` variables the kubelet adds unless `enableServiceLinks: false`. */
export function serviceLinkEnv(services: readonly Service[]): Record<string, string> {
  const env: Record<string, string> = {}
  for (const service of services) {
    const ip = service.spec?.clusterIP
    const ports = service.spec?.ports ?? []
    if (!ip || ip === 'None' || ports.length === 0) continue
    const prefix = service.metadata.name.toUpperCase().replaceAll('-', '_')
    const first = ports[0]
    env[`${prefix}_SERVICE_HOST`] = ip
    env[`${prefix}_SERVICE_PORT`] = String(first?.port)
    env[`${prefix}_PORT`] = `tcp://${ip}:${first?.port}`
    for (const port of ports) {
      const protocol = (port.protocol ?? 'TCP').toUpperCase()
      if (port.name) env[`${prefix}_SERVICE_PORT_${port.name.toUpperCase().replaceAll('-', '_')}`] = String(port.port)
      const base = `${prefix}_PORT_${port.port}_${protocol}`
      Object.assign(env, { [base]: `${protocol.toLowerCase()}://${ip}:${port.port}`, [`${base}_PROTO`]: protocol.toLowerCase(), [`${base}_PORT`]: String(port.port), [`${base}_ADDR`]: ip })
    }
  }
  return env
}

function keyRefValue(snapshot: ClusterSnapshot, namespace: string, kind: 'Secret' | 'ConfigMap', ref: KeyRef): string | { missing: string } | undefined {
  const object = kind === 'Secret' ? snapshot.secrets.get(keyOf(namespace, ref.name)) : snapshot.configMaps.get(keyOf(namespace, ref.name))
  const raw = object?.data?.[ref.key]
  if (raw !== undefined) return kind === 'Secret' ? Buffer.from(raw, 'base64').toString('utf8') : raw
  if (ref.optional) return undefined
  return { missing: object ? `${kind} ${namespace}/${ref.name} has no key ${ref.key}` : `${kind} ${namespace}/${ref.name} not found` }
}

function envFromSources(container: Container, namespace: string, snapshot: ClusterSnapshot, env: Record<string, string>, waitingFor: string[]): void {
  for (const source of container.envFrom ?? []) {
    const ref = source.secretRef ?? source.configMapRef
    if (!ref) continue
    const secret = source.secretRef ? snapshot.secrets.get(keyOf(namespace, ref.name)) : undefined
    const map = source.configMapRef ? snapshot.configMaps.get(keyOf(namespace, ref.name)) : undefined
    if (!secret && !map) {
      if (!ref.optional) waitingFor.push(`${source.secretRef ? 'Secret' : 'ConfigMap'} ${namespace}/${ref.name} not found`)
      continue
    }
    for (const [key, value] of Object.entries(secret?.data ?? map?.data ?? {})) {
      env[`${source.prefix ?? ''}${key}`] = secret ? Buffer.from(value, 'base64').toString('utf8') : value
    }
  }
}

/**
 * The container's environment as the kubelet builds it: service links, `envFrom`, then `env` with `value`
 * (expanded), `secretKeyRef`, `configMapKeyRef` and `fieldRef`. Values travel in the child's environment only.
 */
export function containerEnv(container: Container, pod: PodIdentity & { serviceLinks: boolean }, snapshot: ClusterSnapshot): ContainerEnv {
  const { namespace } = pod
  const env: Record<string, string> = pod.serviceLinks ? serviceLinkEnv(snapshot.services.filter((s) => s.metadata.namespace === namespace)) : {}
  const waitingFor: string[] = []
  envFromSources(container, namespace, snapshot, env, waitingFor)
  const fields: Record<string, string | undefined> = { 'metadata.name': pod.name, 'metadata.namespace': namespace, 'status.podIP': pod.podIp }
  for (const variable of container.env ?? []) {
    const from = variable.valueFrom
    let value: string | { missing: string } | undefined = variable.value === undefined ? undefined : expandEnvValue(variable.value, env)
    if (from?.secretKeyRef) value = keyRefValue(snapshot, namespace, 'Secret', from.secretKeyRef)
    else if (from?.configMapKeyRef) value = keyRefValue(snapshot, namespace, 'ConfigMap', from.configMapKeyRef)
    else if (from?.fieldRef) value = fields[from.fieldRef.fieldPath] ?? { missing: `env ${variable.name}: fieldRef ${from.fieldRef.fieldPath} is not one the lab fills` }
    if (typeof value === 'object') waitingFor.push(value.missing)
    else env[variable.name] = value ?? ''
  }
  return { env, waitingFor }
}
