import type { DistributionClient, Manifest } from './distribution-client.js'
import { imageBlobs, type OciImage } from './oci-image.js'

export type PushOutcome = { digest: string; uploaded: number; present: number }

/** Blobs first (skipping those the repository already has), then the manifest under `tag`, as docker push does. */
export async function pushImage(client: DistributionClient, repo: string, tag: string, image: OciImage): Promise<PushOutcome> {
  let uploaded = 0
  let present = 0
  for (const item of imageBlobs(image)) {
    if (await client.blobExists(repo, item.digest)) present++
    else {
      await client.uploadBlob(repo, item.bytes)
      uploaded++
    }
  }
  const digest = await client.putManifest(repo, tag, { bytes: image.manifest.bytes, mediaType: image.manifest.mediaType })
  return { digest, uploaded, present }
}

type ManifestJson = { mediaType?: string; config?: { digest: string }; layers?: { digest: string }[]; manifests?: { digest: string }[] }

/** The digests a manifest points at: config and layers of an image, or the child manifests of an index. */
export function referencedDigests(manifest: Manifest): { blobs: string[]; manifests: string[] } {
  const json = JSON.parse(manifest.bytes.toString('utf8')) as ManifestJson
  return {
    blobs: [...(json.config ? [json.config.digest] : []), ...(json.layers ?? []).map((l) => l.digest)],
    manifests: (json.manifests ?? []).map((m) => m.digest),
  }
}

export type PulledImage = { manifest: Manifest; blobs: Map<string, Buffer> }

/** Manifest and every blob it references, each checked against its digest by the client. */
export async function pullImage(client: DistributionClient, repo: string, reference: string): Promise<PulledImage> {
  const manifest = await client.getManifest(repo, reference)
  const blobs = new Map<string, Buffer>()
  for (const digest of referencedDigests(manifest).blobs) blobs.set(digest, await client.getBlob(repo, digest))
  return { manifest, blobs }
}
