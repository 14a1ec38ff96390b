import { describeRef, refOf, type KubeObject } from '@homelab/core'
import { Certificate } from '@kubernetes-models/cert-manager/cert-manager.io/v1/Certificate'
import { Probe } from '@kubernetes-models/prometheus-operator/monitoring.coreos.com/v1/Probe'
import { IngressRoute } from '@kubernetes-models/traefik/traefik.io/v1alpha1/IngressRoute'
import { Deployment } from 'kubernetes-models/apps/v1/Deployment'
import { Namespace } from 'kubernetes-models/v1/Namespace'
import { PersistentVolumeClaim } from 'kubernetes-models/v1/PersistentVolumeClaim'
import { Secret as SecretModel } from 'kubernetes-models/v1/Secret'
import { Service } from 'kubernetes-models/v1/Service'
import { ManifestError } from './errors/manifest-error.js'

type ModelClass = new (data: any) => { validate(): void }

/** Every kind this package applies, with the schema it must pass before the API server sees it. */
const MODELS: Record<string, ModelClass> = {
  'v1/Namespace': Namespace,
  'v1/PersistentVolumeClaim': PersistentVolumeClaim,
  'v1/Secret': SecretModel,
  'v1/Service': Service,
  'apps/v1/Deployment': Deployment,
  'cert-manager.io/v1/Certificate': Certificate,
  'traefik.io/v1alpha1/IngressRoute': IngressRoute,
  'monitoring.coreos.com/v1/Probe': Probe,
}

type AjvIssue = { instancePath?: string; message?: string; params?: Record<string, unknown> }

/** Checks an object against its kubernetes-models schema; the error names the object and the field. */
export function validateManifest(object: KubeObject): KubeObject {
  const name = describeRef(refOf(object))
  const Model = MODELS[`${object.apiVersion}/${object.kind}`]
  if (!Model) throw new ManifestError(`no schema for ${object.apiVersion} ${object.kind} (${name})`, { object: name, hint: 'add its kubernetes-models class to validate-manifest.ts' })
  try {
    new Model(structuredClone(object)).validate()
  } catch (error) {
    const issue = ((error as { errors?: AjvIssue[] }).errors ?? [])[0]
    const field = fieldPath(issue)
    const why = issue?.message ?? (error as Error).message
    throw new ManifestError(`${name} is invalid: ${field || '(object)'} ${why}`, { object: name, field, cause: error, hint: 'fix the manifest under manifests/localstack or the localstack.* config value that sets this field' })
  }
  return object
}

/** `/spec/template/spec/containers/0` → `spec.template.spec.containers[0]`, plus a missing property's name. */
function fieldPath(issue: AjvIssue | undefined): string {
  if (!issue) return ''
  const parts = (issue.instancePath ?? '').split('/').filter(Boolean)
  const missing = issue.params?.['missingProperty']
  if (typeof missing === 'string') parts.push(missing)
  return parts.reduce((out, part) => (/^\d+$/.test(part) ? `${out}[${part}]` : out ? `${out}.${part}` : part), '')
}

/** Keys sorted at every level (arrays keep their order): the same config always renders the same bytes. */
export function sortKeys<T>(value: T): T {
  if (Array.isArray(value)) return value.map(sortKeys) as T
  if (value === null || typeof value !== 'object') return value
  return Object.fromEntries(Object.keys(value).sort().map((key) => [key, sortKeys((value as Record<string, unknown>)[key])])) as T
}
