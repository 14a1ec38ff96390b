import { AuthorizationV1Api } from '@kubernetes/client-node'
import { credentialPluginOf, toKubeError, type HomelabConfig, type KubeClient } from '@homelab/core'

/** One kind of object bootstrap (or teardown) touches, and how. */
export type AccessNeed = { group: string; resource: string; namespace?: string; verbs: readonly string[]; optional?: string }

const APPLY = ['get', 'list', 'create', 'patch'] as const

/**
 * Pure. What bootstrap does with the cluster, per resource: server-side apply is `patch` (and `create` for new
 * objects), `get`/`list` read state, node-trust watches Node readiness. Teardown also needs `delete`.
 */
export function accessNeeds(config: HomelabConfig): AccessNeed[] {
  const registry = config.registry.namespace
  const localstack = config.localstack.namespace
  const tool = config.kubernetes.namespace
  const withDelete = [...APPLY, 'delete']
  return [
    { group: '', resource: 'namespaces', verbs: withDelete },
    ...[registry, localstack, tool].flatMap((namespace) => [
      { group: '', resource: 'secrets', namespace, verbs: withDelete },
      // Run locks live in the tool's namespace: renewed, and taken over from a dead run, by replace (update).
      { group: '', resource: 'configmaps', namespace, verbs: namespace === tool ? [...withDelete, 'update'] : withDelete },
    ]),
    ...[registry, localstack].flatMap((namespace) => [
      { group: '', resource: 'services', namespace, verbs: withDelete },
      { group: '', resource: 'persistentvolumeclaims', namespace, verbs: withDelete },
      { group: 'apps', resource: 'deployments', namespace, verbs: withDelete },
      { group: 'cert-manager.io', resource: 'certificates', namespace, verbs: withDelete },
      { group: 'traefik.io', resource: 'ingressroutes', namespace, verbs: withDelete },
    ]),
    { group: 'cert-manager.io', resource: 'clusterissuers', verbs: withDelete },
    { group: 'cert-manager.io', resource: 'certificates', namespace: config.tls.ca.namespace, verbs: withDelete },
    // The local-registry-hosting ConfigMap; teardown deletes it.
    { group: '', resource: 'configmaps', namespace: 'kube-public', verbs: withDelete },
    // node-trust reads the root CA here (tls.mode ca); the LocalStack endpoint and the runbooks too. Teardown deletes
    // the Secret cert-manager issued for our root Certificate.
    ...(config.tls.mode === 'ca' ? [{ group: '', resource: 'secrets', namespace: config.tls.ca.namespace, verbs: ['get', 'delete'] }] : []),
    // Bootstrap looks for a garbage-collect still running; verify-all's metrics check and gc run Jobs and read their pods.
    { group: '', resource: 'pods', namespace: registry, verbs: ['get', 'list'] },
    // Made by server-side apply (patch).
    { group: 'batch', resource: 'jobs', namespace: registry, verbs: ['get', 'list', 'create', 'patch', 'delete'] },
    { group: '', resource: 'nodes', verbs: ['get', 'list'] },
    { group: '', resource: 'services', namespace: config.ingress.traefikService.namespace, verbs: ['get'] },
    // Retired (delete) when metrics or the ServiceMonitor are switched off, as the health Probe is with LocalStack.
    { group: 'monitoring.coreos.com', resource: 'servicemonitors', namespace: registry, verbs: withDelete, optional: 'no ServiceMonitor for the registry metrics' },
    { group: 'monitoring.coreos.com', resource: 'probes', namespace: localstack, verbs: withDelete, optional: 'no Probe for LocalStack health' },
  ]
}

export const describeNeed = (need: AccessNeed) =>
  `${need.verbs.join(',')} ${need.group ? `${need.resource}.${need.group}` : need.resource}${need.namespace ? ` in ${need.namespace}` : ''}`

/**
 * Whether the kubeconfig's user may do anything to anything, as K3s's own admin kubeconfig may: then one review
 * answers every need, instead of one per verb and resource (a hundred round trips, and as many for the API server).
 * A `*` review is allowed only by a rule that grants every verb on every resource, so a yes here is a yes for each.
 */
export async function mayDoEverything(kube: KubeClient): Promise<boolean> {
  const api = kube.makeApiClient(AuthorizationV1Api)
  try {
    const review = await api.createSelfSubjectAccessReview({
      body: { apiVersion: 'authorization.k8s.io/v1', kind: 'SelfSubjectAccessReview', spec: { resourceAttributes: { verb: '*', group: '*', resource: '*' } } },
    })
    return review.status?.allowed === true
  } catch (error) {
    throw toKubeError('create', { apiVersion: 'authorization.k8s.io/v1', kind: 'SelfSubjectAccessReview', name: '* on *' }, kube.server, error, credentialPluginOf(kube.config))
  }
}

/** The verbs of `need` the kubeconfig's user may not use, asked with one SelfSubjectAccessReview per verb. */
export async function deniedVerbs(kube: KubeClient, need: AccessNeed): Promise<string[]> {
  const api = kube.makeApiClient(AuthorizationV1Api)
  const answers = await Promise.all(need.verbs.map(async (verb) => {
    try {
      const review = await api.createSelfSubjectAccessReview({
        body: { apiVersion: 'authorization.k8s.io/v1', kind: 'SelfSubjectAccessReview', spec: { resourceAttributes: { verb, group: need.group, resource: need.resource, ...(need.namespace ? { namespace: need.namespace } : {}) } } },
      })
      return review.status?.allowed ? undefined : verb
    } catch (error) {
      throw toKubeError('create', { apiVersion: 'authorization.k8s.io/v1', kind: 'SelfSubjectAccessReview', name: describeNeed(need) }, kube.server, error, credentialPluginOf(kube.config))
    }
  }))
  return answers.filter((v): v is string => v !== undefined)
}
