import type { HomelabConfig, KubeObject } from '@homelab/core'
import type { IDeployment } from 'kubernetes-models/apps/v1/Deployment'
import type { IConfigMap } from 'kubernetes-models/v1/ConfigMap'
import type { INamespace } from 'kubernetes-models/v1/Namespace'
import type { IPersistentVolumeClaim } from 'kubernetes-models/v1/PersistentVolumeClaim'
import type { IService } from 'kubernetes-models/v1/Service'
import { MANIFEST_FILES, readManifest } from './manifest-files.js'
import { containerNamed, finishObject, resourceRequirements, secretVolumeNamed, setName, setNamespace, setPodAnnotation } from './object-edits.js'
import { CONFIG_CHECKSUM_ANNOTATION, REGISTRY_NAMES } from './registry-names.js'
import type { RenderedDistributionConfig } from './render-distribution-config.js'

type RegistryConfig = HomelabConfig['registry']

export function renderNamespace(registry: RegistryConfig): KubeObject {
  return finishObject(setName(readManifest<INamespace>(MANIFEST_FILES.namespace), registry.namespace), 'registry')
}

export function renderPvc(registry: RegistryConfig): KubeObject {
  const pvc = setNamespace(readManifest<IPersistentVolumeClaim>(MANIFEST_FILES.pvc), registry.namespace)
  pvc.spec!.storageClassName = registry.storage.storageClass
  pvc.spec!.resources = { requests: { storage: registry.storage.size.toString() } }
  return finishObject(pvc, 'registry')
}

export function renderConfigMap(registry: RegistryConfig, config: RenderedDistributionConfig): KubeObject {
  const configMap = setNamespace(readManifest<IConfigMap>(MANIFEST_FILES.configMap), registry.namespace)
  configMap.data = { [REGISTRY_NAMES.configKey]: config.text }
  return finishObject(configMap, 'registry')
}

export function renderRegistryDeployment(registry: RegistryConfig, config: RenderedDistributionConfig): KubeObject {
  const deployment = setNamespace(readManifest<IDeployment>(MANIFEST_FILES.deployment), registry.namespace)
  const container = containerNamed(deployment, 'registry')
  container.image = registry.image
  container.resources = resourceRequirements(registry.resources)
  // The htpasswd Secret is read and written under this name (registry-credentials.ts): the pod must mount the same one.
  secretVolumeNamed(deployment, 'auth').secretName = registry.auth.secretName
  setPodAnnotation(deployment, CONFIG_CHECKSUM_ANNOTATION, config.checksum)
  return finishObject(deployment, 'registry')
}

export function renderRegistryService(registry: RegistryConfig): KubeObject {
  return finishObject(setNamespace(readManifest<IService>(MANIFEST_FILES.service), registry.namespace), 'registry')
}
