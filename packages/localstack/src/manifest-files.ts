import { readFileSync } from 'node:fs'
import { fileURLToPath } from 'node:url'
import { parseDocument } from 'yaml'
import { ManifestError } from './errors/manifest-error.js'

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

/** One YAML mapping, parsed fresh on every call so a caller's edits never leak into the next render. */
export function readManifest<T>(file: ManifestFile, dir: string = MANIFEST_DIR): T {
  const path = `${dir}${file}`
  let text: string
  try {
    text = readFileSync(path, 'utf8')
  } catch (error) {
    throw new ManifestError(`cannot read manifest ${path}: ${(error as Error).message}`, { path, cause: error, hint: 'the manifests/ folder ships with the repository; restore it with git' })
  }
  const document = parseDocument(text, { prettyErrors: false })
  if (document.errors.length > 0) throw new ManifestError(`manifest ${path} is not valid YAML: ${document.errors[0]!.message.split('\n')[0]}`, { path, hint: 'fix the YAML syntax' })
  const value: unknown = document.toJS()
  if (value === null || typeof value !== 'object' || Array.isArray(value)) throw new ManifestError(`manifest ${path} must hold one mapping`, { path })
  return value as T
}
