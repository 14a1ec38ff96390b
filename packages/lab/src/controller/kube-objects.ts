/*
 * The wire shapes the controller reads, only as deep as it uses them. Objects come from the API server as plain JSON,
 * so every field is optional: the controller must survive anything a user (or a buggy tool) applies.
 */
export type ObjectMeta = {
  name: string
  namespace?: string
  uid?: string
  generation?: number
  resourceVersion?: string
  creationTimestamp?: string
  deletionTimestamp?: string
  finalizers?: string[]
  labels?: Record<string, string>
  annotations?: Record<string, string>
  ownerReferences?: { apiVersion: string; kind: string; name: string; uid: string; controller?: boolean }[]
}

export type KubeObject = { apiVersion?: string; kind?: string; metadata: ObjectMeta }

export type Condition = { type: string; status: string; reason?: string; message?: string; lastTransitionTime?: string; lastUpdateTime?: string; lastProbeTime?: string }

export type KeyToPath = { key: string; path: string; mode?: number }

export type Volume = {
  name: string
  configMap?: { name: string; items?: KeyToPath[]; optional?: boolean; defaultMode?: number }
  secret?: { secretName: string; items?: KeyToPath[]; optional?: boolean; defaultMode?: number }
  persistentVolumeClaim?: { claimName: string; readOnly?: boolean }
  emptyDir?: Record<string, unknown>
}

export type KeyRef = { name: string; key: string; optional?: boolean }

export type EnvVar = {
  name: string
  value?: string
  valueFrom?: { secretKeyRef?: KeyRef; configMapKeyRef?: KeyRef; fieldRef?: { fieldPath: string } }
}

export type EnvFrom = { prefix?: string; configMapRef?: { name: string; optional?: boolean }; secretRef?: { name: string; optional?: boolean } }

export type ContainerPort = { name?: string; containerPort: number; protocol?: string }

export type HttpProbe = { httpGet?: { path?: string; port: number | string; scheme?: string }; periodSeconds?: number }

export type Container = {
  name: string
  image?: string
  command?: string[]
  args?: string[]
  env?: EnvVar[]
  envFrom?: EnvFrom[]
  ports?: ContainerPort[]
  volumeMounts?: { name: string; mountPath: string; subPath?: string; readOnly?: boolean }[]
  readinessProbe?: HttpProbe
  terminationMessagePolicy?: string
}

export type PodSpec = {
  containers?: Container[]
  volumes?: Volume[]
  enableServiceLinks?: boolean
  serviceAccountName?: string
  restartPolicy?: string
  automountServiceAccountToken?: boolean
}

export type PodTemplate = { metadata?: { labels?: Record<string, string>; annotations?: Record<string, string> }; spec?: PodSpec }

export type Deployment = KubeObject & {
  spec?: { replicas?: number; selector?: { matchLabels?: Record<string, string> }; template?: PodTemplate }
  status?: Record<string, unknown> & { conditions?: Condition[] }
}

export type Job = KubeObject & {
  spec?: { template?: PodTemplate; backoffLimit?: number; ttlSecondsAfterFinished?: number; suspend?: boolean }
  status?: { startTime?: string; completionTime?: string; succeeded?: number; failed?: number; active?: number; conditions?: Condition[] }
}

export type Pod = KubeObject & { spec?: PodSpec; status?: { phase?: string; startTime?: string } }

export type ConfigMap = KubeObject & { data?: Record<string, string>; binaryData?: Record<string, string> }

export type Secret = KubeObject & { type?: string; data?: Record<string, string> }

export type ServicePort = { name?: string; port: number; targetPort?: number | string; protocol?: string }

export type Service = KubeObject & { spec?: { selector?: Record<string, string>; ports?: ServicePort[]; type?: string; clusterIP?: string } }

export type PersistentVolumeClaim = KubeObject & {
  spec?: { accessModes?: string[]; resources?: { requests?: Record<string, string> } }
  status?: { phase?: string; accessModes?: string[]; capacity?: Record<string, string> }
}

export type ServiceAccount = KubeObject & { secrets?: { name: string }[] }

export type IssuerRef = { name: string; kind?: string; group?: string }

export type Certificate = KubeObject & {
  spec?: {
    secretName?: string
    issuerRef?: IssuerRef
    dnsNames?: string[]
    commonName?: string
    isCA?: boolean
    duration?: string
    privateKey?: { algorithm?: string; size?: number }
  }
  status?: { conditions?: Condition[]; notAfter?: string; notBefore?: string }
}

export type Issuer = KubeObject & {
  spec?: { selfSigned?: Record<string, unknown>; ca?: { secretName?: string } }
  status?: { conditions?: Condition[] }
}

export type IngressRouteService = { name: string; port?: number | string; namespace?: string; kind?: string; scheme?: string; passHostHeader?: boolean }

export type IngressRoute = KubeObject & {
  spec?: {
    entryPoints?: string[]
    routes?: { kind?: string; match?: string; priority?: number; services?: IngressRouteService[] }[]
    tls?: { secretName?: string }
  }
}

/** `namespace/name`, the key every map of the snapshot uses. */
export const keyOf = (namespace: string | undefined, name: string): string => `${namespace ?? ''}/${name}`

export const objectKey = (object: KubeObject): string => keyOf(object.metadata.namespace, object.metadata.name)

export const describeObject = (object: KubeObject): string => `${object.kind ?? 'object'} ${objectKey(object)}`
