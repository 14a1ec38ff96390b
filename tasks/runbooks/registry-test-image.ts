import { createHash } from 'node:crypto'
import { gzipSync } from 'node:zlib'
import { checkStep, type Step, type ToolContext } from '@homelab/core'
import { TEST_IMAGE_PATH } from '@homelab/node-trust'
import { RegistryLoginError } from './errors/registry-login-error.js'
import { registryEndpoint, type RegistryEndpoint, type RegistryLogin } from './registry-endpoint.js'

type Blob = { mediaType: string; data: Buffer; digest: string }

const sha256 = (data: Buffer) => `sha256:${createHash('sha256').update(data).digest('hex')}`
const blob = (mediaType: string, data: Buffer): Blob => ({ mediaType, data, digest: sha256(data) })

/** Pure. One ustar entry (a regular file, mtime 0) and the end-of-archive blocks: the same bytes every time. */
export function tarOneFile(name: string, content: Buffer): Buffer {
  const header = Buffer.alloc(512)
  const field = (text: string, offset: number, length: number) => header.write(text.slice(0, length), offset, length, 'ascii')
  const octal = (value: number, length: number) => value.toString(8).padStart(length - 1, '0')
  field(name, 0, 100)
  field(octal(0o644, 8), 100, 8)
  field(octal(0, 8), 108, 8)
  field(octal(0, 8), 116, 8)
  field(octal(content.length, 12), 124, 12)
  field(octal(0, 12), 136, 12)
  field('        ', 148, 8)
  field('0', 156, 1)
  field('ustar\u000000', 257, 8)
  const sum = header.reduce((n, b) => n + b, 0)
  field(`${octal(sum, 7)}\u0000`, 148, 8)
  const padding = Buffer.alloc((512 - (content.length % 512)) % 512)
  return Buffer.concat([header, content, padding, Buffer.alloc(1024)])
}

/** Pure. The smallest OCI image: one layer holding one text file; identical bytes on every run, so pushes are no-ops. */
export function testImageBlobs(): { layer: Blob; config: Blob; manifest: Blob } {
  const tar = tarOneFile('hello.txt', Buffer.from('pulled through the homelab registry\n'))
  const layer = blob('application/vnd.oci.image.layer.v1.tar+gzip', gzipSync(tar))
  const config = blob('application/vnd.oci.image.config.v1+json', Buffer.from(JSON.stringify({ architecture: 'amd64', os: 'linux', config: {}, rootfs: { type: 'layers', diff_ids: [sha256(tar)] } })))
  const describe = (b: Blob) => ({ mediaType: b.mediaType, digest: b.digest, size: b.data.length })
  const manifest = blob('application/vnd.oci.image.manifest.v1+json', Buffer.from(JSON.stringify({ schemaVersion: 2, mediaType: 'application/vnd.oci.image.manifest.v1+json', config: describe(config), layers: [describe(layer)] })))
  return { layer, config, manifest }
}

/** Pushes the test image over the Distribution API unless the tag already points at these exact bytes. */
export async function pushTestImage(endpoint: RegistryEndpoint, login: RegistryLogin, image = TEST_IMAGE_PATH): Promise<'pushed' | 'present'> {
  const [repository, tag] = image.split(':') as [string, string]
  const { layer, config, manifest } = testImageBlobs()
  const client = endpoint.client(login)
  const fail = (what: string, status: number) => new RegistryLoginError(`registry ${endpoint.host}: ${what} answered ${status}`, { host: endpoint.host, status, hint: status === 401 ? `check the password of ${login.username} (registry credentials Secret)` : 'look at the registry pod log' })
  try {
    const head = await client.request('HEAD', `/v2/${repository}/manifests/${tag}`, { headers: { accept: manifest.mediaType }, expect: [200, 401, 404] })
    if (head.status === 401) throw fail(`HEAD /v2/${repository}/manifests/${tag}`, 401)
    if (head.status === 200 && head.headers['docker-content-digest'] === manifest.digest) return 'present'
    for (const b of [layer, config]) {
      const have = await client.request('HEAD', `/v2/${repository}/blobs/${b.digest}`, { expect: [200, 404] })
      if (have.status === 200) continue
      const started = await client.request('POST', `/v2/${repository}/blobs/uploads/`, { expect: [202, 401] })
      if (started.status !== 202) throw fail('POST blobs/uploads', started.status)
      const location = new URL(String(started.headers['location']), `https://${endpoint.host}`)
      const query = { ...Object.fromEntries(location.searchParams), digest: b.digest }
      await client.request('PUT', location.pathname, { query, body: b.data, headers: { 'content-type': 'application/octet-stream' }, expect: [201] })
    }
    await client.request('PUT', `/v2/${repository}/manifests/${tag}`, { body: manifest.data, headers: { 'content-type': manifest.mediaType }, expect: [201] })
    return 'pushed'
  } finally {
    await client.close()
  }
}

export const TEST_IMAGE_STEP = 'registry test image for node pulls'

/**
 * The image node-trust's verify pulls on every node. The registry's own verify is meant to push it; while the
 * registry has none, the root verify stage pushes it here (idempotent: same bytes, same digest).
 */
export function registryTestImageStep(ctx: ToolContext): Step<null, never> {
  return checkStep(TEST_IMAGE_STEP, async (stepCtx) => {
    const endpoint = await registryEndpoint(ctx)
    const outcome = await pushTestImage(endpoint, endpoint.login)
    stepCtx.progress(`${endpoint.host}/${TEST_IMAGE_PATH} ${outcome}`)
  })
}
