import { ManifestError } from '@homelab/core'
import type { HomelabConfig, KubeObject } from '@homelab/core'
import type { IDeployment } from 'kubernetes-models/apps/v1/Deployment'
import type { IContainer } from 'kubernetes-models/v1/Container'
import type { IResourceRequirements } from 'kubernetes-models/v1/ResourceRequirements'
import type { ISecretVolumeSource } from 'kubernetes-models/v1/SecretVolumeSource'
import { appLabels, type AppName } from './registry-names.js'
import { sortKeys, validateObject } from './validate-object.js'

/*
 * Small typed edits of parsed manifests. Values are set on fields, never spliced into YAML text, so a config value
 * can never change the shape of an object.
 */

type Named = { metadata?: { name?: string; namespace?: string; labels?: Record<string, string>; annotations?: Record<string, string> } }

export type Resources = HomelabConfig['registry']['resources']

export function setNamespace<T extends Named>(object: T, namespace: string): T {
  object.metadata = { ...object.metadata, namespace }
  return object
}

export function setName<T extends Named>(object: T, name: string): T {
  object.metadata = { ...object.metadata, name }
  return object
}

export function addLabels<T extends Named>(object: T, labels: Record<string, string>): T {
  object.metadata = { ...object.metadata, labels: { ...object.metadata?.labels, ...labels } }
  return object
}

/** The container a manifest must have; a missing one is a broken manifest, named as such. */
export function containerNamed(deployment: IDeployment, name: string): IContainer {
  const container = deployment.spec?.template.spec?.containers.find((c) => c.name === name)
  if (!container) throw new ManifestError(`Deployment ${deployment.metadata?.name} has no container "${name}"`, { object: `Deployment ${deployment.metadata?.name}`, field: 'spec.template.spec.containers' })
  return container
}

/** The Secret volume a manifest must have; a missing one is a broken manifest, named as such. */
export function secretVolumeNamed(deployment: IDeployment, name: string): ISecretVolumeSource {
  const volume = deployment.spec?.template.spec?.volumes?.find((v) => v.name === name)
  if (!volume?.secret) throw new ManifestError(`Deployment ${deployment.metadata?.name} has no Secret volume "${name}"`, { object: `Deployment ${deployment.metadata?.name}`, field: 'spec.template.spec.volumes' })
  return volume.secret
}

/** Sets a plain env value, replacing one of the same name in place so the order stays the manifest's. */
export function setEnv(container: IContainer, name: string, value: string): void {
  const env = (container.env ??= [])
  const existing = env.find((e) => e.name === name)
  if (existing) {
    existing.value = value
    delete existing.valueFrom
  } else env.push({ name, value })
}

export function setPodAnnotation(deployment: IDeployment, key: string, value: string): void {
  const template = deployment.spec!.template
  template.metadata = { ...template.metadata, annotations: { ...template.metadata?.annotations, [key]: value } }
}

/** Quantities in their canonical text, which is what the API server stores: a re-apply is then no diff. */
export function resourceRequirements(resources: Resources): IResourceRequirements {
  return {
    requests: { memory: resources.requests.memory.toString(), cpu: resources.requests.cpu.toString() },
    limits: { memory: resources.limits.memory.toString(), cpu: resources.limits.cpu.toString() },
  }
}

/** The last edit of every object: the common labels, the schema check, and a stable key order. */
export function finishObject(object: Named & { apiVersion?: string; kind?: string }, app: AppName): KubeObject {
  addLabels(object, appLabels(app))
  return sortKeys(validateObject(object as unknown as KubeObject))
}
