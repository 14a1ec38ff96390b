import { posix } from 'node:path'
import { isOwnBackup, SshError, type SshSession } from '@homelab/core'
import { restartMarkerPath } from './restart-marker.js'
import type { K3sUnit, TrustNode } from './trust-nodes.js'

/**
 * What a node has now: its registries.yaml and CA file (undefined when absent), and whether an earlier run left a
 * restart due (its marker file is there).
 */
export type NodeFiles = { registriesYaml: string | undefined; ca: Buffer | undefined; restartPending: boolean }

export async function readNodeFiles(session: SshSession, paths: { registriesYamlPath: string; caPath: string }): Promise<NodeFiles> {
  const [yaml, ca, marker] = await Promise.all([session.readFile(paths.registriesYamlPath), session.readFile(paths.caPath), session.readFile(restartMarkerPath(paths.registriesYamlPath))])
  return { registriesYaml: yaml?.toString('utf8'), ca, restartPending: marker !== undefined }
}

/** The K3s unit from config, else the one whose unit file exists (`systemctl cat` fails for a unit that does not). */
export async function detectK3sUnit(session: SshSession, node: TrustNode): Promise<K3sUnit> {
  if (node.unit) return node.unit
  for (const unit of ['k3s', 'k3s-agent'] as const) {
    if ((await session.exec(['systemctl', 'cat', unit])).code === 0) return unit
  }
  throw new SshError(`${node.label}: neither the k3s nor the k3s-agent systemd unit exists`, {
    host: node.target.host,
    hint: `is K3s installed there? If it runs under another init, set ${node.key}.role to server or agent`,
  })
}

/** The newest backup writeFileAtomic kept of `path` (names sort by age), for the restore hint. */
export async function newestBackup(session: SshSession, path: string): Promise<string | undefined> {
  const dir = posix.dirname(path)
  const listing = await session.exec(['ls', '-1', dir])
  // Ours only: an operator's own `registries.yaml.bak-before-upgrade` is not the file we replaced.
  const backups = listing.stdout.split('\n').filter((n) => isOwnBackup(n, posix.basename(path))).sort()
  const last = backups.at(-1)
  return last === undefined ? undefined : posix.join(dir, last)
}
