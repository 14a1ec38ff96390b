import type { HomelabConfig, KubeObject } from '@homelab/core'
import type { IDeployment } from 'kubernetes-models/apps/v1/Deployment'
import type { IService } from 'kubernetes-models/v1/Service'
import { MANIFEST_FILES, readManifest } from './manifest-files.js'
import { containerNamed, finishObject, setEnv, setNamespace } from './object-edits.js'
import { clusterRegistryHost } from './registry-names.js'

type RegistryConfig = HomelabConfig['registry']

/** Joxit's settings are strings in its index.html, so booleans go in as "true"/"false". */
export function renderUiDeployment(registry: RegistryConfig): KubeObject {
  const deployment = setNamespace(readManifest<IDeployment>(MANIFEST_FILES.uiDeployment), registry.namespace)
  const container = containerNamed(deployment, 'registry-ui')
  container.image = registry.ui.image
  setEnv(container, 'REGISTRY_TITLE', registry.ui.title)
  setEnv(container, 'NGINX_PROXY_PASS_URL', `http://${clusterRegistryHost(registry.namespace)}`)
  setEnv(container, 'SINGLE_REGISTRY', String(registry.ui.singleRegistry))
  setEnv(container, 'DELETE_IMAGES', String(registry.ui.deleteImages))
  return finishObject(deployment, 'registry-ui')
}

export function renderUiService(registry: RegistryConfig): KubeObject {
  return finishObject(setNamespace(readManifest<IService>(MANIFEST_FILES.uiService), registry.namespace), 'registry-ui')
}
