import { describeRef, refOf, type KubeObject } from '@homelab/core'
// One file per model, not the version indexes: each index loads hundreds of schemas and slows every task's start.
import { Certificate } from '@kubernetes-models/cert-manager/cert-manager.io/v1/Certificate'
import { ClusterIssuer } from '@kubernetes-models/cert-manager/cert-manager.io/v1/ClusterIssuer'
import { Issuer } from '@kubernetes-models/cert-manager/cert-manager.io/v1/Issuer'
import { ServiceMonitor } from '@kubernetes-models/prometheus-operator/monitoring.coreos.com/v1/ServiceMonitor'
import { IngressRoute } from '@kubernetes-models/traefik/traefik.io/v1alpha1/IngressRoute'
import { Deployment } from 'kubernetes-models/apps/v1/Deployment'
import { Job } from 'kubernetes-models/batch/v1/Job'
import { ConfigMap } from 'kubernetes-models/v1/ConfigMap'
import { Namespace } from 'kubernetes-models/v1/Namespace'
import { PersistentVolumeClaim } from 'kubernetes-models/v1/PersistentVolumeClaim'
import { Secret as SecretModel } from 'kubernetes-models/v1/Secret'
import { Service } from 'kubernetes-models/v1/Service'
import { ManifestError } from './errors/manifest-error.js'

type Validatable = { validate(): void }
type ModelClass = new (data: any) => Validatable

/** Every kind this package applies, with the schema it must pass before it is sent. */
const MODELS: Record<string, ModelClass> = {
  'v1/Namespace': Namespace,
  'v1/PersistentVolumeClaim': PersistentVolumeClaim,
  'v1/ConfigMap': ConfigMap,
  'v1/Secret': SecretModel,
  'v1/Service': Service,
  'apps/v1/Deployment': Deployment,
  'batch/v1/Job': Job,
  'cert-manager.io/v1/Certificate': Certificate,
  'cert-manager.io/v1/ClusterIssuer': ClusterIssuer,
  'cert-manager.io/v1/Issuer': Issuer,
  'traefik.io/v1alpha1/IngressRoute': IngressRoute,
  'monitoring.coreos.com/v1/ServiceMonitor': ServiceMonitor,
}

type AjvIssue = { instancePath?: string; message?: string; params?: Record<string, unknown> }

/**
 * Checks an object against its kubernetes-models schema. A failure names the object and the field, so a broken
 * manifest or config value is reported here rather than as a 422 from the API server halfway through a run.
 */
export function validateObject(object: KubeObject): KubeObject {
  const name = describeRef(refOf(object))
  const Model = MODELS[`${object.apiVersion}/${object.kind}`]
  if (!Model) throw new ManifestError(`no schema for ${object.apiVersion} ${object.kind} (${name})`, { object: name, hint: 'add its kubernetes-models class to validate-object.ts' })
  try {
    new Model(structuredClone(object)).validate()
  } catch (error) {
    const issue = ((error as { errors?: AjvIssue[] }).errors ?? [])[0]
    const field = fieldPath(issue)
    const why = issue?.message ?? (error as Error).message
    throw new ManifestError(`${name} is invalid: ${field || '(object)'} ${why}`, { object: name, field, cause: error, hint: 'fix the manifest under manifests/registry or the config value that sets this field' })
  }
  return object
}

/** `/spec/template/spec/containers/0/ports/0` → `spec.template.spec.containers[0].ports[0]`, plus a missing property's name. */
function fieldPath(issue: AjvIssue | undefined): string {
  if (!issue) return ''
  const parts = (issue.instancePath ?? '').split('/').filter(Boolean)
  const missing = issue.params?.['missingProperty']
  if (typeof missing === 'string') parts.push(missing)
  return parts.reduce((out, part) => (/^\d+$/.test(part) ? `${out}[${part}]` : out ? `${out}.${part}` : part), '')
}

/** Keys sorted at every level (arrays keep their order), so the same input always renders the same bytes. */
export function sortKeys<T>(value: T): T {
  if (Array.isArray(value)) return value.map(sortKeys) as T
  if (value === null || typeof value !== 'object') return value
  const entries = Object.keys(value)
    .sort()
    .map((key) => [key, sortKeys((value as Record<string, unknown>)[key])])
  return Object.fromEntries(entries) as T
}
