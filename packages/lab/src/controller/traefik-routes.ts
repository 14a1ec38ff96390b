import type { ClusterSnapshot } from './cluster-snapshot.js'
import type { IngressRoute } from './kube-objects.js'
import type { ServiceAddress } from './service-addresses.js'
import { parseRule, ruleMatches, type RuleNode, type RuleRequest } from './traefik-rules.js'

/** Where a route sends requests: a pod IP and port, or nowhere (the Service exists but no pod runs: 503). */
export type RouteBackend = { host: string; port: number } | undefined

export type TraefikRoute = { name: string; rule: string; priority: number; tree: RuleNode; backend: RouteBackend; namespace: string; createdAt: string }

export type RouteTable = { routes: TraefikRoute[]; tlsSecrets: { namespace: string; name: string }[]; problems: string[] }

/** An IngressRoute Traefik serves on its websecure (443, TLS) entry point. */
const onWebsecure = (route: IngressRoute) => route.spec?.tls !== undefined && (route.spec.entryPoints ?? ['websecure']).includes('websecure')

function backendOf(route: IngressRoute, index: number, snapshot: ClusterSnapshot, addresses: readonly ServiceAddress[]): RouteBackend | string {
  const target = route.spec?.routes?.[index]?.services?.[0]
  const namespace = target?.namespace ?? route.metadata.namespace ?? 'default'
  if (!target?.name) return 'no services[0].name'
  if ((target.kind ?? 'Service') !== 'Service') return `service kind ${target.kind} is not one the lab plays`
  const service = snapshot.services.find((s) => s.metadata.namespace === namespace && s.metadata.name === target.name)
  if (!service) return `Service ${namespace}/${target.name} not found`
  const port = service.spec?.ports?.find((p) => p.port === target.port || p.name === target.port || String(p.port) === String(target.port))
  if (!port) return `Service ${namespace}/${target.name} has no port ${target.port}`
  const address = addresses.find((a) => a.namespace === namespace && a.name === target.name)
  const mapped = address?.ports.find((p) => p.port === port.port)
  return address && mapped ? { host: address.podIp, port: mapped.targetPort } : undefined
}

/**
 * Pure. Traefik's router table for the websecure entry point: every rule of every IngressRoute with `tls`, highest
 * priority first, where priority defaults to the rule's length (so the longer, more specific rule wins).
 */
export function buildRouteTable(snapshot: ClusterSnapshot, addresses: readonly ServiceAddress[]): RouteTable {
  const routes: TraefikRoute[] = []
  const problems: string[] = []
  const tlsSecrets: RouteTable['tlsSecrets'] = []
  for (const ingress of snapshot.ingressRoutes.filter(onWebsecure)) {
    const namespace = ingress.metadata.namespace ?? 'default'
    if (ingress.spec?.tls?.secretName) tlsSecrets.push({ namespace, name: ingress.spec.tls.secretName })
    for (const [index, route] of (ingress.spec?.routes ?? []).entries()) {
      const name = `${namespace}/${ingress.metadata.name}#${index}`
      try {
        const rule = route.match ?? ''
        const backend = backendOf(ingress, index, snapshot, addresses)
        if (typeof backend === 'string') problems.push(`IngressRoute ${name}: ${backend}`)
        else routes.push({ name, rule, priority: route.priority || rule.length, tree: parseRule(rule), backend, namespace, createdAt: ingress.metadata.creationTimestamp ?? '' })
      } catch (error) {
        problems.push(`IngressRoute ${name}: ${error instanceof Error ? error.message : String(error)}`)
      }
    }
  }
  // Equal priorities: the newest IngressRoute first (a shared lab keeps other tests' routes for the same host).
  routes.sort((a, b) => b.priority - a.priority || b.createdAt.localeCompare(a.createdAt) || a.name.localeCompare(b.name))
  return { routes, tlsSecrets, problems }
}

/** Pure. The route a request takes, or undefined for Traefik's 404. */
export function matchRoute(table: Pick<RouteTable, 'routes'>, request: RuleRequest): TraefikRoute | undefined {
  return table.routes.find((route) => ruleMatches(route.tree, request))
}
