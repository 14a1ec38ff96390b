import type { HomelabConfig, KubeObject } from '@homelab/core'
import type { INamespace } from 'kubernetes-models/v1/Namespace'
import type { IPersistentVolumeClaim } from 'kubernetes-models/v1/PersistentVolumeClaim'
import type { ISecret } from 'kubernetes-models/v1/Secret'
import type { IService } from 'kubernetes-models/v1/Service'
import { MANIFEST_FILES, readManifest } from './manifest-files.js'
import { NAMES } from './localstack-names.js'

type Localstack = HomelabConfig['localstack']

export function renderNamespace(localstack: Localstack): KubeObject {
  const namespace = readManifest<INamespace>(MANIFEST_FILES.namespace)
  namespace.metadata = { ...namespace.metadata, name: localstack.namespace }
  return namespace as KubeObject
}

export function renderStateVolumeClaim(localstack: Localstack): KubeObject {
  const pvc = readManifest<IPersistentVolumeClaim>(MANIFEST_FILES.pvc)
  pvc.metadata = { ...pvc.metadata, name: NAMES.pvc, namespace: localstack.namespace }
  pvc.spec = { ...pvc.spec, storageClassName: localstack.storage.storageClass, resources: { requests: { storage: localstack.storage.size.toString() } } }
  return pvc as KubeObject
}

export function renderService(localstack: Localstack): KubeObject {
  const service = readManifest<IService>(MANIFEST_FILES.service)
  service.metadata = { ...service.metadata, name: NAMES.service, namespace: localstack.namespace }
  return service as KubeObject
}

/**
 * The token edition's Secret. The token is only ever here, base64 in `data`, and read by the pod through a
 * secretKeyRef; the apply diff masks Secret values.
 */
export function renderAuthTokenSecret(localstack: Localstack): KubeObject | undefined {
  if (localstack.edition !== 'token' || localstack.authToken === undefined) return undefined
  const secret = readManifest<ISecret>(MANIFEST_FILES.authTokenSecret)
  secret.metadata = { ...secret.metadata, name: NAMES.authTokenSecret, namespace: localstack.namespace }
  secret.data = { [NAMES.authTokenKey]: Buffer.from(localstack.authToken.reveal(), 'utf8').toString('base64') }
  return secret as KubeObject
}
