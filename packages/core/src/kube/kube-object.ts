/** The parts of any Kubernetes object the tool reads generically. */
export type KubeObject = {
  apiVersion: string
  kind: string
  metadata: {
    name: string
    namespace?: string
    labels?: Record<string, string>
    annotations?: Record<string, string>
    resourceVersion?: string
    managedFields?: ManagedFieldsEntry[]
    [key: string]: unknown
  }
  [key: string]: unknown
}

export type ManagedFieldsEntry = { manager?: string; operation?: string; apiVersion?: string; time?: string; fieldsV1?: unknown; [key: string]: unknown }

export type ObjectRef = { apiVersion: string; kind: string; name: string; namespace?: string }

export const refOf = (o: KubeObject): ObjectRef => ({
  apiVersion: o.apiVersion,
  kind: o.kind,
  name: o.metadata.name,
  ...(o.metadata.namespace ? { namespace: o.metadata.namespace } : {}),
})

/** `Secret homelab/registry-auth`, `ClusterIssuer homelab-ca`: how objects are named in output. */
export const describeRef = (r: ObjectRef): string => `${r.kind} ${r.namespace ? `${r.namespace}/` : ''}${r.name}`
