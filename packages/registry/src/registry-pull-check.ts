import type { DistributionClient } from './distribution-client.js'
import { RegistryVerifyError } from './errors/registry-verify-error.js'
import { referencedDigests } from './image-transfer.js'

export type PullCheck = { repositories: number; tags: number; checked: number; blobs: number }

/**
 * After a GC: every tag still resolves, and everything its manifest references is still there (child manifests of
 * an index, config and layers; the config is pulled and digest-checked, layers are checked by HEAD to keep it
 * quick). Stops after `limit` tags. A missing piece is exactly the damage a GC during a push, or --delete-untagged
 * on a multi-arch image, does.
 */
export async function checkTagsPull(client: DistributionClient, limit = 200): Promise<PullCheck> {
  const result: PullCheck = { repositories: 0, tags: 0, checked: 0, blobs: 0 }
  const broken: string[] = []
  for (const repo of await client.catalog()) {
    result.repositories++
    const tags = await client.tags(repo).catch((error: unknown) => (isNameUnknown(error) ? [] : Promise.reject(error)))
    result.tags += tags.length
    for (const tag of tags) {
      if (result.checked >= limit) continue
      result.checked++
      broken.push(...(await brokenReferences(client, repo, tag, result)))
    }
  }
  if (broken.length > 0) {
    throw new RegistryVerifyError(`${client.host}: ${broken.length} references are broken: ${broken.slice(0, 10).join('; ')}${broken.length > 10 ? '; …' : ''}`, {
      host: client.host,
      hint: 'these images must be pushed again; if a blob "already exists" on re-push, restart the registry first (pnpm --filter registry run gc does)',
    })
  }
  return result
}

// A repository whose every manifest was deleted keeps its folder (so the catalog lists it) but has no tags.
const isNameUnknown = (error: unknown) => (error as { code?: string }).code === 'NAME_UNKNOWN'

async function brokenReferences(client: DistributionClient, repo: string, reference: string, counts: PullCheck, depth = 0): Promise<string[]> {
  const manifest = await client.getManifest(repo, reference)
  const { blobs, manifests } = referencedDigests(manifest)
  const broken: string[] = []
  for (const [index, digest] of blobs.entries()) {
    counts.blobs++
    // The config comes first: pulling it proves blobs are served, not only listed.
    const present = index === 0 ? await client.getBlob(repo, digest).then(() => true, (e: unknown) => (isBlobUnknown(e) ? false : Promise.reject(e))) : await client.blobExists(repo, digest)
    if (!present) broken.push(`${repo}:${reference} needs blob ${digest}`)
  }
  for (const digest of manifests) {
    if (!(await client.headManifest(repo, digest))) broken.push(`${repo}:${reference} needs manifest ${digest}`)
    // An index's children are images; deeper nesting is not something registries are given in practice.
    else if (depth === 0) broken.push(...(await brokenReferences(client, repo, digest, counts, depth + 1)))
  }
  return broken
}

const isBlobUnknown = (error: unknown) => (error as { status?: number }).status === 404
