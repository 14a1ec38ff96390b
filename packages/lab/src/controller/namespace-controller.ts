import type { ClusterSnapshot } from './cluster-snapshot.js'
import type { ControllerContext } from './controller-context.js'
import type { KubeRestClient } from './kube-rest-client.js'

type ApiResource = { name: string; namespaced: boolean; verbs: string[] }
type Discovery = { at: number; collections: string[] }

/** Discovery is cached between passes (CRDs come and go rarely). */
export type NamespaceMemory = { discovery?: Discovery }

/** Namespaced kinds that can be deleted as a collection: `/api/v1/namespaces/NS/<plural>` style paths minus the namespace. */
async function discoverCollections(client: KubeRestClient): Promise<string[]> {
  const groups = await client.request<{ groups: { preferredVersion: { groupVersion: string } }[] }>('GET', '/apis')
  const bases = ['/api/v1', ...groups.groups.map((g) => `/apis/${g.preferredVersion.groupVersion}`)]
  const collections: string[] = []
  for (const base of bases) {
    const list = await client.request<{ resources: ApiResource[] }>('GET', base)
    for (const r of list.resources) {
      if (r.namespaced && !r.name.includes('/') && r.verbs.includes('deletecollection')) collections.push(`${base}|${r.name}`)
    }
  }
  return collections
}

/**
 * The namespace controller: a Namespace being deleted has its content deleted, its claims' protection finalizer
 * dropped (no pvc-protection controller here), and then its `kubernetes` finalizer removed. Without this a
 * deleted namespace stays Terminating forever, and the lab would keep running its pods.
 */
export async function reconcileTerminatingNamespaces(context: ControllerContext, snapshot: ClusterSnapshot, memory: NamespaceMemory): Promise<void> {
  const terminating = snapshot.namespaces.filter((ns) => ns.metadata.deletionTimestamp !== undefined)
  if (terminating.length === 0) return
  if (!memory.discovery || Date.now() - memory.discovery.at > 5 * 60_000) memory.discovery = { at: Date.now(), collections: await discoverCollections(context.client) }
  for (const ns of terminating) {
    const name = ns.metadata.name
    for (const entry of memory.discovery.collections) {
      const [base, plural] = entry.split('|')
      await context.client.delete(`${base}/namespaces/${encodeURIComponent(name)}/${plural}`)
    }
    for (const claim of [...snapshot.claims.values()].filter((c) => c.metadata.namespace === name && c.metadata.finalizers?.length)) {
      await context.client.mergePatch(`/api/v1/namespaces/${encodeURIComponent(name)}/persistentvolumeclaims/${encodeURIComponent(claim.metadata.name)}`, { metadata: { finalizers: null } })
    }
    await context.client.request('PUT', `/api/v1/namespaces/${encodeURIComponent(name)}/finalize`, {
      body: { apiVersion: 'v1', kind: 'Namespace', metadata: { name }, spec: { finalizers: [] } },
    })
    context.log.info(`Namespace ${name}: content deleted, finalized`)
  }
}
