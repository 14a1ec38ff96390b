/*
 * The names of what bootstrap applies. They are a contract: the lab's controller, the verify and GC tasks and the
 * README read the same objects by these names, so they live in one place.
 */
export const REGISTRY_NAMES = {
  configMap: 'registry-config',
  configKey: 'config.yml',
  httpSecret: 'registry-http-secret',
  httpSecretKey: 'secret',
  htpasswdKey: 'htpasswd',
  pvc: 'registry-data',
  deployment: 'registry',
  service: 'registry',
  ui: 'registry-ui',
  registryCertificate: 'registry-tls',
  uiCertificate: 'registry-ui-tls',
  registryRoute: 'registry',
  uiRoute: 'registry-ui',
  serviceMonitor: 'registry',
  localRegistryHosting: { namespace: 'kube-public', name: 'local-registry-hosting', key: 'localRegistryHosting.v1' },
} as const

/** Where config.yml is mounted in the registry container (the registry:2 image's default path). */
export const REGISTRY_CONFIG_PATH = '/etc/docker/registry/config.yml'

export const PORTS = { http: 5000, metrics: 5001, ui: 80 } as const

/** Pod-template annotation: a hash of config.yml, so a config change rolls the pod and nothing else does. */
export const CONFIG_CHECKSUM_ANNOTATION = 'homelab-devtools/config-checksum'

export const PART_OF = { 'app.kubernetes.io/part-of': 'homelab-devtools' } as const

/**
 * What each of the registry's Secrets is for, in `app.kubernetes.io/component`. Two of them take their name from
 * config, so after a rename only this label says that an older Secret of ours held the same thing.
 */
export const SECRET_ROLE_LABEL = 'app.kubernetes.io/component'
export const SECRET_ROLES = { credentials: 'credentials', htpasswd: 'htpasswd', httpSecret: 'http-secret' } as const
export type SecretRole = (typeof SECRET_ROLES)[keyof typeof SECRET_ROLES]

/** The app.kubernetes.io/name each group of objects carries. */
export type AppName = 'registry' | 'registry-ui' | 'homelab-ca'

export const appLabels = (name: AppName): Record<string, string> => ({ 'app.kubernetes.io/name': name, ...PART_OF })

/** The in-cluster address of the registry's API port, for the UI's proxy and the KEP-1755 ConfigMap. */
export const clusterRegistryHost = (namespace: string) => `${REGISTRY_NAMES.service}.${namespace}.svc.cluster.local:${PORTS.http}`
