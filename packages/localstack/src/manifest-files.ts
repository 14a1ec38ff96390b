import { fileURLToPath } from 'node:url'
import { readManifestFile } from '@homelab/core'

/** The reviewable YAML this package renders from: `<repo>/manifests/localstack`. */
export const MANIFEST_DIR = fileURLToPath(new URL('../../../manifests/localstack/', import.meta.url))

export const MANIFEST_FILES = {
  namespace: 'namespace.yaml',
  pvc: 'persistent-volume-claim.yaml',
  authTokenSecret: 'auth-token-secret.yaml',
  deployment: 'deployment.yaml',
  dindSidecar: 'dind-sidecar.yaml',
  service: 'service.yaml',
  certificate: 'certificate.yaml',
  ingressRoute: 'ingressroute.yaml',
  s3VirtualHostRoute: 'ingressroute-s3-virtual-host.yaml',
  probe: 'probe.yaml',
} as const

export type ManifestFile = (typeof MANIFEST_FILES)[keyof typeof MANIFEST_FILES]

/** One YAML mapping from this package's manifests, parsed fresh on every call so a caller's edits never leak into the next render. */
export function readManifest<T>(file: ManifestFile, dir: string = MANIFEST_DIR): T {
  return readManifestFile<T>(dir, file)
}
