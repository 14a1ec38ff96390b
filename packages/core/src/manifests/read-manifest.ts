import { createHash } from 'node:crypto'
import { mkdirSync, readFileSync, renameSync, writeFileSync } from 'node:fs'
import { dirname, join } from 'node:path'
import { fileURLToPath } from 'node:url'
import { isDeepStrictEqual } from 'node:util'
import { parseDocument } from 'yaml'
import { ManifestError } from './manifest-error.js'

/**
 * Parsed manifests by the SHA-256 of their text, beside the task bundles: the `yaml` library takes 1.5 ms for each of
 * these small commented files, most of a no-op render. Contents, not times, name an entry, so an edited manifest is
 * parsed afresh and a stale entry can never be read.
 */
const PARSED_CACHE = fileURLToPath(new URL('../../../../node_modules/.cache/homelab-devtools/manifests/', import.meta.url))

/**
 * One YAML mapping from a component's manifests folder, a fresh object on every call so that a caller's edits never
 * leak into the next render. The type parameter is the kubernetes-models interface the file is expected to hold.
 */
export function readManifestFile<T>(dir: string, file: string, cacheDir: string = PARSED_CACHE): T {
  const path = join(dir, file)
  let text: string
  try {
    text = readFileSync(path, 'utf8')
  } catch (error) {
    throw new ManifestError(`cannot read manifest ${path}: ${(error as Error).message}`, { path, cause: error, hint: 'the manifests/ folder ships with the repository; restore it with git' })
  }
  const cached = join(cacheDir, `${createHash('sha256').update(text).digest('hex')}.json`)
  const known = readParsed(cached)
  if (known !== undefined) return known as T
  const value = parseManifest(text, path)
  keepParsed(cached, value)
  return value as T
}

function parseManifest(text: string, path: string): object {
  const document = parseDocument(text, { prettyErrors: false })
  if (document.errors.length > 0) {
    throw new ManifestError(`manifest ${path} is not valid YAML: ${document.errors[0]!.message.split('\n')[0]}`, { path, hint: 'fix the YAML syntax' })
  }
  const value: unknown = document.toJS()
  if (value === null || typeof value !== 'object' || Array.isArray(value)) {
    throw new ManifestError(`manifest ${path} must hold one mapping, got ${Array.isArray(value) ? 'a list' : String(value)}`, { path })
  }
  return value
}

function readParsed(file: string): unknown {
  try {
    return JSON.parse(readFileSync(file, 'utf8'))
  } catch {
    // Not parsed before (or a torn entry): the YAML is parsed and the entry written again.
    return undefined
  }
}

/** Keeps what JSON holds exactly (YAML could also give `.inf` or a Date); a cache that cannot be written is skipped. */
function keepParsed(file: string, value: object): void {
  const json = JSON.stringify(value)
  if (!isDeepStrictEqual(JSON.parse(json), value)) return
  try {
    mkdirSync(dirname(file), { recursive: true })
    writeFileSync(`${file}.${process.pid}.tmp`, json)
    renameSync(`${file}.${process.pid}.tmp`, file)
  } catch {
    // A read-only checkout parses every time, as before there was a cache.
  }
}
