import { createHash } from 'node:crypto'
import { createHttpClient, HttpError, Secret, type HttpClient, type HttpClientOptions, type HttpRequestOptions, type HttpResponse } from '@homelab/core'
import { RegistryError } from './errors/registry-error.js'

export const MEDIA_TYPES = {
  ociManifest: 'application/vnd.oci.image.manifest.v1+json',
  ociIndex: 'application/vnd.oci.image.index.v1+json',
  ociConfig: 'application/vnd.oci.image.config.v1+json',
  ociLayerGzip: 'application/vnd.oci.image.layer.v1.tar+gzip',
  dockerManifest: 'application/vnd.docker.distribution.manifest.v2+json',
  dockerManifestList: 'application/vnd.docker.distribution.manifest.list.v2+json',
} as const

// Without an Accept list Distribution answers with (or converts to) the old schema 1, whose digest differs.
const MANIFEST_ACCEPT = [MEDIA_TYPES.ociManifest, MEDIA_TYPES.ociIndex, MEDIA_TYPES.dockerManifest, MEDIA_TYPES.dockerManifestList].join(', ')

export type BasicAuth = { username: string; password: Secret }

export type DistributionClientOptions = Omit<HttpClientOptions, 'headers'> & {
  /** Sent on every request in the Authorization header, and nowhere else. None: anonymous requests. */
  auth?: BasicAuth | undefined
}

export type ManifestRef = { digest: string; mediaType: string; size: number }
export type Manifest = ManifestRef & { bytes: Buffer }
export type BlobRef = { digest: string; size: number }

/** The registry v2 API, as much of it as verify, the GC runbook and the tests use. */
export type DistributionClient = {
  /** `registry.homelab.local` (or host:port): where requests go, for messages. */
  readonly host: string
  /** The status of `GET /v2/`: 200 (credentials accepted) or 401 (none, or refused). Anything else is an error. */
  ping(): Promise<number>
  catalog(): Promise<string[]>
  tags(repo: string): Promise<string[]>
  getManifest(repo: string, reference: string): Promise<Manifest>
  /** undefined when the registry has no such manifest. */
  headManifest(repo: string, reference: string): Promise<ManifestRef | undefined>
  /** Returns the digest the registry stored the manifest under. */
  putManifest(repo: string, reference: string, manifest: { bytes: Buffer; mediaType: string }): Promise<string>
  deleteManifest(repo: string, digest: string): Promise<void>
  blobExists(repo: string, digest: string): Promise<boolean>
  /** A monolithic upload (POST, then PUT with the digest); returns the digest and size. */
  uploadBlob(repo: string, bytes: Buffer): Promise<BlobRef>
  /** The blob's bytes, checked against its digest. */
  getBlob(repo: string, digest: string): Promise<Buffer>
  close(): Promise<void>
}

export const sha256Digest = (bytes: Buffer | string) => `sha256:${createHash('sha256').update(bytes).digest('hex')}`

const REPOSITORY = /^[a-z0-9]+(?:(?:[._]|__|-+)[a-z0-9]+)*(?:\/[a-z0-9]+(?:(?:[._]|__|-+)[a-z0-9]+)*)*$/

type Target = { http: HttpClient; origin: URL; host: string; authorization: Secret | undefined }

export function createDistributionClient(options: DistributionClientOptions): DistributionClient {
  const { auth, ...httpOptions } = options
  // Upload Locations are absolute paths, so the client works on the registry's origin, never a path under it.
  const origin = new URL(new URL(options.baseUrl).origin)
  const http = createHttpClient({ ...httpOptions, baseUrl: origin.href })
  // A Secret, so the header value is scrubbed from any output it might reach by accident.
  const authorization = auth ? new Secret(`Basic ${Buffer.from(`${auth.username}:${auth.password.reveal()}`).toString('base64')}`) : undefined
  const target: Target = { http, origin, host: origin.host, authorization }
  return {
    host: target.host,
    ping: async () => (await call(target, 'GET', '/v2/', { expect: [200, 401], what: 'check the API version (/v2/)' })).status,
    catalog: () => paginated(target, '/v2/_catalog', 'repositories', 'list the repositories'),
    tags: (repo) => paginated(target, `/v2/${repoPath(repo)}/tags/list`, 'tags', `list the tags of ${repo}`),
    getManifest: (repo, reference) => getManifest(target, repo, reference),
    headManifest: (repo, reference) => headManifest(target, repo, reference),
    putManifest: (repo, reference, manifest) => putManifest(target, repo, reference, manifest),
    deleteManifest: async (repo, digest) => {
      await call(target, 'DELETE', `/v2/${repoPath(repo)}/manifests/${digestPath(digest)}`, { expect: [202], what: `delete manifest ${digest} of ${repo}` })
    },
    blobExists: async (repo, digest) => {
      const response = await call(target, 'HEAD', `/v2/${repoPath(repo)}/blobs/${digestPath(digest)}`, { expect: [200, 404], what: `look for blob ${digest} in ${repo}` })
      return response.status === 200
    },
    uploadBlob: (repo, bytes) => uploadBlob(target, repo, bytes),
    getBlob: (repo, digest) => getBlob(target, repo, digest),
    close: () => http.close(),
  }
}

/** Names go into URL paths unescaped (a repository has slashes), so anything outside the spec's grammar is refused. */
function repoPath(repo: string): string {
  if (!REPOSITORY.test(repo)) throw new TypeError(`"${repo}" is not a repository name (lower-case path components such as homelab-devtools/verify)`)
  return repo
}

function digestPath(digest: string): string {
  if (!/^[a-z0-9]+(?:[+._-][a-z0-9]+)*:[a-zA-Z0-9=_-]+$/.test(digest)) throw new TypeError(`"${digest}" is not a digest (sha256:<64 hex>)`)
  return digest
}

const referencePath = (reference: string) => (reference.includes(':') ? digestPath(reference) : tagPath(reference))

function tagPath(tag: string): string {
  if (!/^[\w][\w.-]{0,127}$/.test(tag)) throw new TypeError(`"${tag}" is not a tag (letters, digits, _ . -, at most 128)`)
  return tag
}

type CallOptions = HttpRequestOptions & { what: string }

/** One request with the credentials; a failure becomes a RegistryError that says what was being done and what to do. */
async function call(target: Target, method: string, path: string, options: CallOptions): Promise<HttpResponse> {
  const { what, ...request } = options
  const authorization: Record<string, string> = target.authorization ? { authorization: target.authorization.reveal() } : {}
  try {
    return await target.http.request(method, path, { ...request, headers: { ...request.headers, ...authorization } })
  } catch (error) {
    if (!(error instanceof HttpError)) throw error
    const code = /"code"\s*:\s*"([A-Z_]+)"/.exec(error.body ?? '')?.[1]
    const hint = failureHint(method, error.status, code)
    throw new RegistryError(`registry ${target.host}: cannot ${what}: ${error.message}${code ? ` [${code}]` : ''}`, {
      method, url: error.url, host: target.host, ...(error.status === undefined ? {} : { status: error.status }),
      ...(error.body === undefined ? {} : { body: error.body }), ...(code ? { code } : {}), ...(hint ? { hint } : {}), cause: error,
    })
  }
}

const WRITES = new Set(['POST', 'PUT', 'PATCH', 'DELETE'])

/** Pure: what the user can do about a failed registry request. */
export function failureHint(method: string, status: number | undefined, code: string | undefined): string | undefined {
  if (status === 401 || status === 403) {
    return 'the registry refused the credentials: check that the user is in registry.users and its password in the credentials Secret (registry.auth.credentialsSecretName); bootstrap derives the htpasswd Secret from them'
  }
  if (status === 405 && WRITES.has(method)) {
    return 'the registry refuses writes: it is read-only (storage.maintenance.readonly), which means a GC run is in progress or was interrupted (run `pnpm --filter registry run gc` to finish or undo it); a refused DELETE can also mean storage.delete.enabled is off'
  }
  if (status === 404 && code) return `the registry has no such ${code === 'NAME_UNKNOWN' ? 'repository' : code === 'MANIFEST_UNKNOWN' ? 'manifest (tag or digest)' : 'blob or upload'}`
  if (status === 413) return 'a proxy in front of the registry limits the request body size'
  if (status !== undefined && status >= 500) return "the registry failed: read its log (kubectl -n <registry.namespace> logs deploy/registry)"
  return undefined
}

const headerValue = (response: HttpResponse, name: string) => {
  const value = response.headers[name]
  return Array.isArray(value) ? value[0] : value
}

/** Follows `Link: <…>; rel="next"` until the list ends (the catalog is capped at 1000 entries a page). */
async function paginated(target: Target, path: string, key: 'repositories' | 'tags', what: string): Promise<string[]> {
  const out: string[] = []
  let next: URL | undefined = new URL(`${path}?n=1000`, target.origin)
  while (next) {
    const response = await call(target, 'GET', next.pathname, { query: Object.fromEntries(next.searchParams), what })
    out.push(...((response.json<Record<string, string[] | null>>()[key]) ?? []))
    const link = /<([^>]+)>\s*;\s*rel="?next"?/.exec(headerValue(response, 'link') ?? '')?.[1]
    next = link ? new URL(link, target.origin) : undefined
  }
  return out
}

async function getManifest(target: Target, repo: string, reference: string): Promise<Manifest> {
  const what = `get manifest ${repo}:${reference}`
  const response = await call(target, 'GET', `/v2/${repoPath(repo)}/manifests/${referencePath(reference)}`, { headers: { accept: MANIFEST_ACCEPT }, what })
  const bytes = response.bytes()
  const digest = sha256Digest(bytes)
  if (reference.includes(':') && reference !== digest) {
    throw new RegistryError(`registry ${target.host}: manifest ${repo}@${reference} came back with content of digest ${digest}`, {
      method: 'GET', url: `${target.origin.origin}/v2/${repo}/manifests/${reference}`, host: target.host, hint: 'the stored manifest is corrupt or a proxy changed it',
    })
  }
  return { digest, mediaType: headerValue(response, 'content-type') ?? '', size: bytes.length, bytes }
}

async function headManifest(target: Target, repo: string, reference: string): Promise<ManifestRef | undefined> {
  const response = await call(target, 'HEAD', `/v2/${repoPath(repo)}/manifests/${referencePath(reference)}`, {
    headers: { accept: MANIFEST_ACCEPT }, expect: [200, 404], what: `look for manifest ${repo}:${reference}`,
  })
  if (response.status === 404) return undefined
  return { digest: headerValue(response, 'docker-content-digest') ?? '', mediaType: headerValue(response, 'content-type') ?? '', size: Number(headerValue(response, 'content-length') ?? 0) }
}

async function putManifest(target: Target, repo: string, reference: string, manifest: { bytes: Buffer; mediaType: string }): Promise<string> {
  const response = await call(target, 'PUT', `/v2/${repoPath(repo)}/manifests/${referencePath(reference)}`, {
    body: manifest.bytes, headers: { 'content-type': manifest.mediaType }, expect: [201], what: `push manifest ${repo}:${reference}`,
  })
  return headerValue(response, 'docker-content-digest') ?? sha256Digest(manifest.bytes)
}

/** POST opens an upload; PUT to its Location with `digest=` sends the whole blob and closes it (no PATCH needed). */
async function uploadBlob(target: Target, repo: string, bytes: Buffer): Promise<BlobRef> {
  const digest = sha256Digest(bytes)
  const what = `upload blob ${digest} to ${repo}`
  const started = await call(target, 'POST', `/v2/${repoPath(repo)}/blobs/uploads/`, { expect: [202], what })
  const location = headerValue(started, 'location')
  if (!location) {
    throw new RegistryError(`registry ${target.host}: cannot ${what}: POST answered 202 without a Location header`, {
      method: 'POST', url: `${target.origin.origin}/v2/${repo}/blobs/uploads/`, host: target.host, status: 202, hint: 'a proxy in front of the registry drops response headers',
    })
  }
  // Relative with http.relativeurls; absolute otherwise, built from X-Forwarded-* — possibly http:// behind a proxy
  // that hides the scheme. Only its path and query are used, on the origin this client trusts.
  const upload = new URL(location, target.origin)
  const query = { ...Object.fromEntries(upload.searchParams), digest }
  await call(target, 'PUT', upload.pathname, { query, body: bytes, headers: { 'content-type': 'application/octet-stream' }, expect: [201], what })
  return { digest, size: bytes.length }
}

async function getBlob(target: Target, repo: string, digest: string): Promise<Buffer> {
  const response = await call(target, 'GET', `/v2/${repoPath(repo)}/blobs/${digestPath(digest)}`, { what: `get blob ${digest} of ${repo}` })
  const bytes = response.bytes()
  if (sha256Digest(bytes) !== digest) {
    throw new RegistryError(`registry ${target.host}: blob ${digest} of ${repo} came back with other content (${bytes.length} bytes, ${sha256Digest(bytes)})`, {
      method: 'GET', url: `${target.origin.origin}/v2/${repo}/blobs/${digest}`, host: target.host, hint: 'the stored blob is corrupt (run the GC runbook only with the registry read-only) or a proxy changed it',
    })
  }
  return bytes
}
