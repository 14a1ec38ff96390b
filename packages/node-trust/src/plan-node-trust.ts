import { isDeepStrictEqual } from 'node:util'
import { parse } from 'yaml'
import type { ChangeView } from '@homelab/core'
import { DEFAULT_MERGE_LIMITS, maskRegistryCredentials, mergeRegistriesYaml, type MergeLimits } from './merge-registries-yaml.js'
import type { NodeFiles } from './node-files.js'
import type { TrustMaterial } from './registry-trust-material.js'
import type { K3sUnit } from './trust-nodes.js'

export type FileWrite = { op: 'write'; path: string; mode: number; data: Buffer; before: string | undefined; after: string }
/** `pending`: an earlier run wrote the files but never saw K3s come back (the node still holds its marker). */
export type K3sRestart = { op: 'restart'; unit: K3sUnit; pending: boolean }
export type NodeTrustChange = FileWrite | K3sRestart

export type PlanOptions = { host: string; registriesYamlPath: string; caPath: string; unit: K3sUnit | undefined; limits?: MergeLimits }

const CA_MODE = 0o644
const REGISTRIES_MODE = 0o600

/*
 * K3s reads values, not bytes: a file already right but indented by four, with CRLF, a leading `---` or no final
 * newline would otherwise be rewritten in our layout, and K3s restarted for nothing, on every run.
 */
function sameValues(current: string | undefined, merged: string, limits: MergeLimits): boolean {
  if (current === undefined) return false
  // The file as this tool last wrote it: the merge renders it unchanged, and no parse is needed to say so.
  if (current === merged) return true
  // Both already parsed cleanly inside the merge, within the same alias limit.
  return isDeepStrictEqual(parse(current, { maxAliasCount: limits.maxAliasCount }), parse(merged, { maxAliasCount: limits.maxAliasCount }))
}

/**
 * Pure. The writes a node needs (CA first, so registries.yaml never names a missing file) and, when anything is
 * written or an earlier run's restart never finished, the restart that makes K3s read it. Throws RegistriesYamlError
 * when the node's file must stay untouched.
 */
export function planNodeTrust(current: NodeFiles, material: TrustMaterial, options: PlanOptions): NodeTrustChange[] {
  const merged = mergeRegistriesYaml(current.registriesYaml, material.trust, { host: options.host, path: options.registriesYamlPath }, options.limits)
  const changes: NodeTrustChange[] = []
  // In acme mode there is no CA to give; a CA file left from ca mode is harmless and goes with teardown.
  if (material.caPem && !current.ca?.equals(material.caPem)) {
    changes.push({ op: 'write', path: options.caPath, mode: CA_MODE, data: material.caPem, before: current.ca?.toString('utf8'), after: material.caPem.toString('utf8') })
  }
  if (!sameValues(current.registriesYaml, merged, options.limits ?? DEFAULT_MERGE_LIMITS)) {
    changes.push({ op: 'write', path: options.registriesYamlPath, mode: REGISTRIES_MODE, data: Buffer.from(merged), before: current.registriesYaml, after: merged })
  }
  // Detected only when a restart is due (it costs a round trip); the plan shows k3s when it is still unknown.
  if (changes.length > 0 || current.restartPending) changes.push({ op: 'restart', unit: options.unit ?? 'k3s', pending: current.restartPending })
  return changes
}

/** How a change reads in the output: credentials masked in both versions of the file. */
export function describeNodeTrustChange(change: NodeTrustChange, host: string): ChangeView {
  if (change.op === 'restart') {
    const why = change.pending ? ' (still due: an earlier run wrote the files but did not see K3s come back)' : ''
    return { summary: `restart ${change.unit} on ${host}${why}, then wait for the Node to be Ready (one node at a time)` }
  }
  const verb = change.before === undefined ? 'create' : 'update'
  const before = maskRegistryCredentials(change.before)
  return { summary: `${verb} ${change.path} on ${host} (mode ${change.mode.toString(8).padStart(4, '0')})`, ...(before === undefined ? {} : { before }), after: maskRegistryCredentials(change.after) ?? '' }
}
