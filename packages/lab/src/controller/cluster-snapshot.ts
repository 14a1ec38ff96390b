import { LabKubeError } from '../errors/lab-error.js'
import type { KubeRestClient } from './kube-rest-client.js'
import {
  objectKey, type Certificate, type ConfigMap, type Deployment, type IngressRoute, type Issuer, type Job, type KubeObject,
  type PersistentVolumeClaim, type Pod, type Secret, type Service, type ServiceAccount,
} from './kube-objects.js'

/** Everything one controller pass looks at, read at the start of the pass; maps are keyed `namespace/name`. */
export type ClusterSnapshot = {
  namespaces: KubeObject[]
  serviceAccounts: ServiceAccount[]
  secrets: Map<string, Secret>
  configMaps: Map<string, ConfigMap>
  claims: Map<string, PersistentVolumeClaim>
  services: Service[]
  deployments: Deployment[]
  jobs: Job[]
  /** Only the pods the lab's Job controller made (they carry `controller-uid`). */
  jobPods: Pod[]
  certificates: Certificate[]
  clusterIssuers: Map<string, Issuer>
  issuers: Map<string, Issuer>
  ingressRoutes: IngressRoute[]
}

const RESOURCES = {
  namespaces: ['/api/v1/namespaces', 'Namespace', 'v1'],
  serviceAccounts: ['/api/v1/serviceaccounts', 'ServiceAccount', 'v1'],
  secrets: ['/api/v1/secrets', 'Secret', 'v1'],
  configMaps: ['/api/v1/configmaps', 'ConfigMap', 'v1'],
  claims: ['/api/v1/persistentvolumeclaims', 'PersistentVolumeClaim', 'v1'],
  services: ['/api/v1/services', 'Service', 'v1'],
  deployments: ['/apis/apps/v1/deployments', 'Deployment', 'apps/v1'],
  jobs: ['/apis/batch/v1/jobs', 'Job', 'batch/v1'],
  certificates: ['/apis/cert-manager.io/v1/certificates', 'Certificate', 'cert-manager.io/v1'],
  clusterIssuers: ['/apis/cert-manager.io/v1/clusterissuers', 'ClusterIssuer', 'cert-manager.io/v1'],
  issuers: ['/apis/cert-manager.io/v1/issuers', 'Issuer', 'cert-manager.io/v1'],
  ingressRoutes: ['/apis/traefik.io/v1alpha1/ingressroutes', 'IngressRoute', 'traefik.io/v1alpha1'],
} as const

/** List items come without kind and apiVersion; put them back so log lines and owner references can name them. */
async function listKind<T extends KubeObject>(client: KubeRestClient, resource: readonly [string, string, string], query?: Record<string, string>): Promise<T[]> {
  const [path, kind, apiVersion] = resource
  try {
    const items = await client.list<T>(path, query)
    return items.map((item) => ({ ...item, kind, apiVersion }))
  } catch (error) {
    // A CRD that is not installed: nothing of that kind to play.
    if (error instanceof LabKubeError && error.status === 404) return []
    throw error
  }
}

const byKey = <T extends KubeObject>(items: T[]): Map<string, T> => new Map(items.map((item) => [objectKey(item), item]))

export async function readClusterSnapshot(client: KubeRestClient): Promise<ClusterSnapshot> {
  const [namespaces, serviceAccounts, secrets, configMaps, claims, services, deployments, jobs, jobPods, certificates, clusterIssuers, issuers, ingressRoutes] =
    await Promise.all([
      listKind(client, RESOURCES.namespaces),
      listKind<ServiceAccount>(client, RESOURCES.serviceAccounts),
      listKind<Secret>(client, RESOURCES.secrets),
      listKind<ConfigMap>(client, RESOURCES.configMaps),
      listKind<PersistentVolumeClaim>(client, RESOURCES.claims),
      listKind<Service>(client, RESOURCES.services),
      listKind<Deployment>(client, RESOURCES.deployments),
      listKind<Job>(client, RESOURCES.jobs),
      listKind<Pod>(client, ['/api/v1/pods', 'Pod', 'v1'], { labelSelector: 'controller-uid' }),
      listKind<Certificate>(client, RESOURCES.certificates),
      listKind<Issuer>(client, RESOURCES.clusterIssuers),
      listKind<Issuer>(client, RESOURCES.issuers),
      listKind<IngressRoute>(client, RESOURCES.ingressRoutes),
    ])
  return {
    namespaces, serviceAccounts, secrets: byKey(secrets), configMaps: byKey(configMaps), claims: byKey(claims), services, deployments,
    jobs, jobPods, certificates, clusterIssuers: byKey(clusterIssuers), issuers: byKey(issuers), ingressRoutes,
  }
}

/** API paths of namespaced objects, for writes. */
export function objectPath(kind: string, namespace: string | undefined, name?: string): string {
  const [group, plural] = PLURALS[kind] ?? ['', '']
  if (!plural) throw new TypeError(`no API path known for kind ${kind}`)
  const base = group === '' ? '/api/v1' : `/apis/${group}`
  const scope = namespace === undefined ? '' : `/namespaces/${encodeURIComponent(namespace)}`
  return `${base}${scope}/${plural}${name === undefined ? '' : `/${encodeURIComponent(name)}`}`
}

const PLURALS: Record<string, [string, string]> = {
  ServiceAccount: ['', 'serviceaccounts'],
  Secret: ['', 'secrets'],
  Pod: ['', 'pods'],
  PersistentVolumeClaim: ['', 'persistentvolumeclaims'],
  Deployment: ['apps/v1', 'deployments'],
  Job: ['batch/v1', 'jobs'],
  Certificate: ['cert-manager.io/v1', 'certificates'],
  ClusterIssuer: ['cert-manager.io/v1', 'clusterissuers'],
  Issuer: ['cert-manager.io/v1', 'issuers'],
}
