// One file per model, not the version indexes: each index loads hundreds of schemas and slows every task's start.
import { Certificate } from '@kubernetes-models/cert-manager/cert-manager.io/v1/Certificate'
import { ClusterIssuer } from '@kubernetes-models/cert-manager/cert-manager.io/v1/ClusterIssuer'
import { Issuer } from '@kubernetes-models/cert-manager/cert-manager.io/v1/Issuer'
import { Probe } from '@kubernetes-models/prometheus-operator/monitoring.coreos.com/v1/Probe'
import { ServiceMonitor } from '@kubernetes-models/prometheus-operator/monitoring.coreos.com/v1/ServiceMonitor'
import { IngressRoute } from '@kubernetes-models/traefik/traefik.io/v1alpha1/IngressRoute'
import { Deployment } from 'kubernetes-models/apps/v1/Deployment'
import { Job } from 'kubernetes-models/batch/v1/Job'
import { ConfigMap } from 'kubernetes-models/v1/ConfigMap'
import { Namespace } from 'kubernetes-models/v1/Namespace'
import { PersistentVolumeClaim } from 'kubernetes-models/v1/PersistentVolumeClaim'
import { Secret as SecretModel } from 'kubernetes-models/v1/Secret'
import { Service } from 'kubernetes-models/v1/Service'
import { describeRef, refOf, type KubeObject } from '../kube/kube-object.js'
import { ManifestError } from './manifest-error.js'

type ModelClass = new (data: any) => { validate(): void }

/** Every kind the tool applies, with the schema it must pass before the API server sees it. */
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
  'monitoring.coreos.com/v1/Probe': Probe,
}

type AjvIssue = { instancePath?: string; message?: string; params?: Record<string, unknown> }

/**
 * Checks an object against its kubernetes-models schema. A failure names the object and the field, so a broken
 * manifest or config value is reported here rather than as a 422 from the API server halfway through a run.
 * `hint` says where the user fixes it (which manifests folder, which config section).
 */
export function validateManifest(object: KubeObject, hint: string): KubeObject {
  const name = describeRef(refOf(object))
  const Model = MODELS[`${object.apiVersion}/${object.kind}`]
  if (!Model) throw new ManifestError(`no schema for ${object.apiVersion} ${object.kind} (${name})`, { object: name, hint: 'add its kubernetes-models class to core validate-manifest.ts' })
  try {
    new Model(structuredClone(object)).validate()
  } catch (error) {
    const issue = ((error as { errors?: AjvIssue[] }).errors ?? [])[0]
    const field = fieldPath(issue)
    const why = issue?.message ?? (error as Error).message
    throw new ManifestError(`${name} is invalid: ${field || '(object)'} ${why}`, { object: name, field, cause: error, hint })
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
