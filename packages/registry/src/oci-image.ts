import { mkdirSync, writeFileSync } from 'node:fs'
import { join } from 'node:path'
import { gzipSync } from 'node:zlib'
import { MEDIA_TYPES, sha256Digest } from './distribution-client.js'

/** Content-addressed bytes, with the descriptor fields a manifest names them by. */
export type OciBlob = { digest: string; size: number; mediaType: string; bytes: Buffer }

export type OciImage = { manifest: OciBlob; config: OciBlob; layers: OciBlob[] }

/** One layer: file path in the image → content. */
export type LayerFiles = Readonly<Record<string, string | Buffer>>

const BLOCK = 512

const blob = (bytes: Buffer, mediaType: string): OciBlob => ({ digest: sha256Digest(bytes), size: bytes.length, mediaType, bytes })

const descriptor = ({ digest, size, mediaType }: OciBlob) => ({ mediaType, digest, size })

function octal(header: Buffer, offset: number, length: number, value: number): void {
  header.write(`${value.toString(8).padStart(length - 1, '0')}\0`, offset, length, 'ascii')
}

/** A ustar header for a regular file. Owner, mode and time are fixed so the same files always give the same digest. */
function tarHeader(name: string, size: number): Buffer {
  if (Buffer.byteLength(name) > 100) throw new TypeError(`tar entry name "${name}" is longer than 100 bytes`)
  const header = Buffer.alloc(BLOCK)
  header.write(name, 0, 100, 'utf8')
  octal(header, 100, 8, 0o644)
  octal(header, 108, 8, 0)
  octal(header, 116, 8, 0)
  octal(header, 124, 12, size)
  octal(header, 136, 12, 0)
  header.write('0', 156, 'ascii')
  header.write('ustar\0' + '00', 257, 'ascii')
  // The checksum is summed with its own field read as spaces.
  header.fill(' ', 148, 156)
  const sum = header.reduce((total, byte) => total + byte, 0)
  header.write(`${sum.toString(8).padStart(6, '0')}\0 `, 148, 8, 'ascii')
  return header
}

/** Pure. An uncompressed tar of the files, in sorted order. */
export function tarArchive(files: LayerFiles): Buffer {
  const parts: Buffer[] = []
  for (const name of Object.keys(files).sort()) {
    const content = Buffer.from(files[name]!)
    parts.push(tarHeader(name, content.length), content, Buffer.alloc((BLOCK - (content.length % BLOCK)) % BLOCK))
  }
  return Buffer.concat([...parts, Buffer.alloc(2 * BLOCK)])
}

/** Pure. An OCI image in memory: one gzip layer per entry (base first), its config, and its manifest. */
export function buildImage(layerFiles: readonly LayerFiles[]): OciImage {
  const tars = layerFiles.map(tarArchive)
  // Node writes gzip headers with mtime 0, so the layer digest depends on the files only.
  const layers = tars.map((tar) => blob(gzipSync(tar), MEDIA_TYPES.ociLayerGzip))
  const configJson = { architecture: 'amd64', os: 'linux', config: {}, rootfs: { type: 'layers', diff_ids: tars.map((tar) => sha256Digest(tar)) } }
  const config = blob(Buffer.from(JSON.stringify(configJson)), MEDIA_TYPES.ociConfig)
  const manifestJson = { schemaVersion: 2, mediaType: MEDIA_TYPES.ociManifest, config: descriptor(config), layers: layers.map(descriptor) }
  return { manifest: blob(Buffer.from(JSON.stringify(manifestJson)), MEDIA_TYPES.ociManifest), config, layers }
}

/** The image verify pushes: one small layer whose file names this run, so every run pushes new blobs. */
export const tinyImage = (label: string): OciImage => buildImage([{ 'homelab-devtools-verify.txt': `pushed by homelab-devtools verify: ${label}\n` }])

/** Every blob of an image, config and layers first, manifest last (the order a push must follow). */
export const imageBlobs = (image: OciImage): OciBlob[] => [image.config, ...image.layers]

/**
 * An OCI image layout (`oci-layout`, `index.json`, `blobs/sha256/…`) holding the images under their tags, which
 * `skopeo copy oci:DIR:TAG …` reads.
 */
export function writeOciLayout(dir: string, images: readonly { tag: string; image: OciImage }[]): string {
  const blobs = join(dir, 'blobs', 'sha256')
  mkdirSync(blobs, { recursive: true })
  for (const { image } of images) {
    for (const item of [...imageBlobs(image), image.manifest]) writeFileSync(join(blobs, item.digest.slice('sha256:'.length)), item.bytes)
  }
  const manifests = images.map(({ tag, image }) => ({ ...descriptor(image.manifest), annotations: { 'org.opencontainers.image.ref.name': tag } }))
  writeFileSync(join(dir, 'index.json'), JSON.stringify({ schemaVersion: 2, mediaType: MEDIA_TYPES.ociIndex, manifests }))
  writeFileSync(join(dir, 'oci-layout'), JSON.stringify({ imageLayoutVersion: '1.0.0' }))
  return dir
}
