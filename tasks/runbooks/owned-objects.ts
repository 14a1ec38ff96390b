import { ApisApi, CoreV1Api, CustomObjectsApi, type V1APIResourceList } from '@kubernetes/client-node'
import { describeRef, isOurs, KubeError, MANAGED_BY, NO_KIND, refOf, type HomelabConfig, type KubeClient, type KubeObject, type ObjectRef } from '@homelab/core'

/** Every kind bootstrap applies, namespaced ones first: namespaces and cluster-wide issuers go last. */
export const OWNED_KINDS = [
  ['traefik.io/v1alpha1', 'IngressRoute'],
  ['monitoring.coreos.com/v1', 'ServiceMonitor'],
  ['monitoring.coreos.com/v1', 'Probe'],
  ['cert-manager.io/v1', 'Certificate'],
  ['apps/v1', 'Deployment'],
  ['batch/v1', 'Job'],
  ['v1', 'Service'],
  ['v1', 'ConfigMap'],
  ['v1', 'Secret'],
  ['v1', 'PersistentVolumeClaim'],
  ['cert-manager.io/v1', 'Issuer'],
  ['cert-manager.io/v1', 'ClusterIssuer'],
  ['v1', 'Namespace'],
] as const

const SELECTOR = Object.entries(MANAGED_BY).map(([k, v]) => `${k}=${v}`).join(',')

/**
 * Pure. Whether this config's bootstrap could have made the object: its namespaces, its CA chain, and the one
 * cluster-wide LocalRegistryHosting ConfigMap. Another config's installation on the same cluster (a second homelab,
 * a test) is ours by label and manager too, and must survive this config's teardown.
 */
export function inScope(object: KubeObject, config: HomelabConfig): boolean {
  const { name, namespace } = object.metadata
  const namespaces = [config.registry.namespace, config.localstack.namespace, config.kubernetes.namespace]
  if (object.kind === 'Namespace') return namespaces.includes(name)
  if (object.kind === 'ClusterIssuer') return config.tls.mode === 'ca' && [config.tls.ca.selfSignedIssuer, config.tls.ca.issuer].includes(name)
  if (namespace && namespaces.includes(namespace)) return true
  if (namespace === config.tls.ca.namespace) return object.kind === 'Certificate' && name === config.tls.ca.certificate
  return namespace === 'kube-public' && object.kind === 'ConfigMap' && name === 'local-registry-hosting'
}

/** Every object of OWNED_KINDS that is ours, in delete order. A kind whose CRD is absent has none. */
export async function listOwnedObjects(kube: KubeClient, config?: HomelabConfig): Promise<KubeObject[]> {
  const lists = await Promise.all(OWNED_KINDS.map(async ([apiVersion, kind]) => {
    try {
      return (await kube.list(apiVersion, kind, { labelSelector: SELECTOR })).map((o) => ({ ...o, apiVersion, kind }))
    } catch (error) {
      if (error instanceof KubeError && error.reason === NO_KIND) return []
      throw error
    }
  }))
  return lists.flat().filter((o) => isOurs(o, kube.fieldManager) && (config === undefined || inScope(o, config)))
}

/** Pure. What lives in a namespace that teardown must not take with it: anything not ours and not made for us. */
export function isForeign(object: KubeObject, fieldManager: string, judged: ReadonlySet<string> = new Set()): boolean {
  if (isOurs(object, fieldManager)) return false
  // Made by a controller for an owner that is judged on its own (a Deployment's ReplicaSets and Pods, a Certificate's
  // requests, all listed in the same namespace): the owner decides. An owner not among them (cluster-scoped, say) does
  // not vouch for anything here.
  const owners = (object.metadata['ownerReferences'] ?? []) as { uid?: string }[]
  if (owners.some((o) => o.uid !== undefined && judged.has(o.uid))) return false
  const annotations = object.metadata.annotations ?? {}
  // cert-manager's Secrets for our Certificates, the service-account machinery and the API server's CA bundle come with the namespace.
  if (object.kind === 'Secret' && (annotations['cert-manager.io/certificate-name'] || object['type'] === 'kubernetes.io/service-account-token')) return false
  if (object.kind === 'ConfigMap' && object.metadata.name === 'kube-root-ca.crt') return false
  if (object.kind === 'ServiceAccount' && object.metadata.name === 'default') return false
  // What the cluster records about a Service (its Endpoints, named after it) and about everything (Events).
  if (object.kind === 'Endpoints' || object.kind === 'Event') return false
  return true
}

/** API groups whose namespaced "objects" are views of others, not anything anyone made: never a reason to keep. */
const VIEW_GROUPS = new Set(['metrics.k8s.io'])

/**
 * Pure. From discovery lists: every namespaced kind that can be listed (no subresources), once per kind and group,
 * as `[groupVersion, kind]`.
 */
export function namespacedListableKinds(lists: readonly V1APIResourceList[]): [string, string][] {
  const kinds = new Map<string, [string, string]>()
  for (const list of lists) {
    const group = list.groupVersion.includes('/') ? list.groupVersion.split('/')[0]! : ''
    if (VIEW_GROUPS.has(group)) continue
    for (const resource of list.resources) {
      if (!resource.namespaced || resource.name.includes('/') || !resource.verbs.includes('list')) continue
      kinds.set(`${group}/${resource.kind}`, [list.groupVersion, resource.kind])
    }
  }
  return [...kinds.values()]
}

/** Every kind the API server serves (discovery: the core group and each group's preferred version). */
async function discoveryLists(kube: KubeClient): Promise<V1APIResourceList[]> {
  const core = await kube.makeApiClient(CoreV1Api).getAPIResources()
  const { groups } = await kube.makeApiClient(ApisApi).getAPIVersions()
  const custom = kube.makeApiClient(CustomObjectsApi)
  const named = await Promise.all(groups.filter((g) => !VIEW_GROUPS.has(g.name)).map(async (g) => {
    const version = g.preferredVersion ?? g.versions[0]!
    try {
      return await custom.getAPIResources({ group: g.name, version: version.version })
    } catch (error) {
      throw new KubeError(`cannot list the kinds of API group ${version.groupVersion} on ${kube.server}: ${(error as Error).message}`, {
        host: kube.server,
        hint: 'teardown keeps a namespace unless it can see everything in it; fix the API group (kubectl get apiservices) or delete the namespace by hand after checking it',
      })
    }
  }))
  return [core, ...named]
}

/**
 * The objects in `namespace` that are not ours, of every kind the API server serves, named: the reason a namespace is
 * kept. A CronJob, an Ingress or a NetworkPolicy someone added there must survive teardown, --delete-data or not.
 */
export async function foreignObjectsIn(kube: KubeClient, namespace: string): Promise<string[]> {
  const kinds = namespacedListableKinds(await discoveryLists(kube))
  const lists = await Promise.all(kinds.map(async ([apiVersion, kind]) => (await kube.list(apiVersion, kind, { namespace })).map((o) => ({ ...o, apiVersion, kind }))))
  const objects = lists.flat()
  const judged = new Set(objects.map((o) => o.metadata['uid'] as string | undefined).filter((uid): uid is string => uid !== undefined))
  return objects.filter((o) => isForeign(o, kube.fieldManager, judged)).map((o) => describeRef(refOf(o)))
}

export { isOurs }
export type { ObjectRef }
