import { readFileSync } from 'node:fs'
import { join } from 'node:path'
import { parseDocument } from 'yaml'
import { ManifestError } from './manifest-error.js'

/**
 * One YAML mapping from a component's manifests folder, parsed fresh on every call so that a caller's edits never
 * leak into the next render. The type parameter is the kubernetes-models interface the file is expected to hold.
 */
export function readManifestFile<T>(dir: string, file: string): T {
  const path = join(dir, file)
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
