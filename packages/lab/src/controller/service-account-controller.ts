import { randomBytes } from 'node:crypto'
import type { ClusterSnapshot } from './cluster-snapshot.js'
import { objectPath } from './cluster-snapshot.js'
import type { ControllerLog } from './controller-log.js'
import type { KubeRestClient } from './kube-rest-client.js'
import { keyOf, type ServiceAccount } from './kube-objects.js'

const TOKEN_TYPE = 'kubernetes.io/service-account-token'

/** Pure. Namespaces (active) that have no `default` ServiceAccount yet. */
export function namespacesWithoutDefaultAccount(snapshot: Pick<ClusterSnapshot, 'namespaces' | 'serviceAccounts'>): string[] {
  const have = new Set(snapshot.serviceAccounts.map((sa) => keyOf(sa.metadata.namespace, sa.metadata.name)))
  return snapshot.namespaces
    .filter((ns) => ns.metadata.deletionTimestamp === undefined)
    .map((ns) => ns.metadata.name)
    .filter((name) => !have.has(keyOf(name, 'default')))
}

/** Pure. ServiceAccounts none of whose listed secrets is a token Secret for it. */
export function accountsWithoutToken(snapshot: Pick<ClusterSnapshot, 'serviceAccounts' | 'secrets'>): ServiceAccount[] {
  return snapshot.serviceAccounts.filter((sa) => !(sa.secrets ?? []).some(({ name }) => {
    const secret = snapshot.secrets.get(keyOf(sa.metadata.namespace, name))
    return secret?.type === TOKEN_TYPE && secret.metadata.annotations?.['kubernetes.io/service-account.name'] === sa.metadata.name
  }))
}

/**
 * The controller-manager's ServiceAccount and token controllers: the API server's ServiceAccount admission plugin
 * refuses a Pod until its namespace has `default` and that account lists a token Secret (Kubernetes 1.20).
 * The token Secret carries no signed token: nothing in the lab authenticates with it.
 */
export async function reconcileServiceAccounts(client: KubeRestClient, snapshot: ClusterSnapshot, log: ControllerLog): Promise<void> {
  for (const namespace of namespacesWithoutDefaultAccount(snapshot)) {
    await client.create(objectPath('ServiceAccount', namespace), { apiVersion: 'v1', kind: 'ServiceAccount', metadata: { name: 'default', namespace } })
    log.info(`ServiceAccount ${namespace}/default created`)
  }
  for (const sa of accountsWithoutToken(snapshot)) {
    const { name, namespace, uid } = sa.metadata
    if (!uid) continue
    const secretName = `${name}-token-${randomBytes(3).toString('hex').slice(0, 5)}`
    await client.create(objectPath('Secret', namespace), {
      apiVersion: 'v1', kind: 'Secret', type: TOKEN_TYPE,
      metadata: { name: secretName, namespace, annotations: { 'kubernetes.io/service-account.name': name, 'kubernetes.io/service-account.uid': uid } },
      data: { namespace: Buffer.from(namespace ?? '').toString('base64') },
    })
    await client.mergePatch(objectPath('ServiceAccount', namespace, name), { secrets: [...(sa.secrets ?? []), { name: secretName }] })
    log.info(`ServiceAccount ${namespace}/${name}: token Secret ${secretName} added`)
  }
}
