import { readFileSync } from 'node:fs'
import { fileURLToPath } from 'node:url'
import { parseDocument } from 'yaml'
import { ManifestError } from './errors/manifest-error.js'

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
 * One YAML document, parsed fresh on every call so that callers can edit what they get without affecting the next
 * render. The type parameter is the kubernetes-models interface the file is expected to hold; validation checks it.
 */
export function readManifest<T>(file: ManifestFile, dir: string = MANIFEST_DIR): T {
  const path = `${dir}${file}`
  let text: string
  try {
    text = readFileSync(path, 'utf8')
  } catch (error) {
    throw new ManifestError(`cannot read manifest ${path}: ${(error as Error).message}`, { path, cause: error, hint: 'the manifests/ folder ships with the repository; restore it with git' })
  }
  const document = parseDocument(text, { prettyErrors: false })
  if (document.errors.length > 0) {
    throw new ManifestError(`manifest ${path} is not valid YAML: ${document.errors[0]!.message.split('\n')[0]}`, { path, hint: 'fix the YAML syntax' })
  }
  const value: unknown = document.toJS()
  if (value === null || typeof value !== 'object' || Array.isArray(value)) {
    throw new ManifestError(`manifest ${path} must hold one mapping, got ${Array.isArray(value) ? 'a list' : String(value)}`, { path })
  }
  return value as T
}
