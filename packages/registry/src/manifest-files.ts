import { fileURLToPath } from 'node:url'
import { readManifestFile } from '@homelab/core'

/** The reviewable YAML this package renders from: `<repo>/manifests/registry`. */
export const MANIFEST_DIR = fileURLToPath(new URL('../../../manifests/registry/', import.meta.url))

/** The manifest files, by what they hold. */
export const MANIFEST_FILES = {
  namespace: 'namespace.yaml',
  pvc: 'pvc.yaml',
  distributionConfig: 'distribution-config.yml',
  configMap: 'config-map.yaml',
  deployment: 'deployment.yaml',
  service: 'service.yaml',
  uiDeployment: 'ui-deployment.yaml',
  uiService: 'ui-service.yaml',
  selfSignedIssuer: 'selfsigned-issuer.yaml',
  rootCaCertificate: 'root-ca-certificate.yaml',
  caIssuer: 'ca-issuer.yaml',
  hostCertificate: 'host-certificate.yaml',
  registryRoute: 'registry-ingressroute.yaml',
  uiRoute: 'ui-ingressroute.yaml',
  serviceMonitor: 'service-monitor.yaml',
  localRegistryHosting: 'local-registry-hosting.yaml',
} as const

export type ManifestFile = (typeof MANIFEST_FILES)[keyof typeof MANIFEST_FILES]

/**
 * One YAML mapping from this package's manifests, parsed fresh on every call so a caller's edits never leak into the
 * next render. The type parameter is the kubernetes-models interface the file is expected to hold; validation checks it.
 */
export function readManifest<T>(file: ManifestFile, dir: string = MANIFEST_DIR): T {
  return readManifestFile<T>(dir, file)
}
