import { posix } from 'node:path'
import { SshError, type SshSession } from '@homelab/core'

/*
 * A restart that failed, timed out, lost its connection or was interrupted leaves files that already match: compared
 * by content alone, the next run would see nothing to do while K3s still runs the old config. So "a restart is due"
 * is kept on the node itself, written before our files and removed only once the node was seen Ready again.
 */
export const RESTART_MARKER_NAME = '.homelab-devtools-restart-pending'

/** Next to registries.yaml: the same folder, the same filesystem, the same owner. */
export function restartMarkerPath(registriesYamlPath: string): string {
  return posix.join(posix.dirname(registriesYamlPath), RESTART_MARKER_NAME)
}

const MARKER_TEXT = 'homelab-devtools wrote K3s config here and has not yet seen K3s come back from its restart; the next sync restarts it and removes this file\n'

export async function markRestartPending(session: SshSession, registriesYamlPath: string): Promise<void> {
  await session.writeFileAtomic(restartMarkerPath(registriesYamlPath), MARKER_TEXT, { mode: 0o644 })
}

export async function clearRestartPending(session: SshSession, label: string, registriesYamlPath: string): Promise<void> {
  const path = restartMarkerPath(registriesYamlPath)
  const result = await session.exec(['rm', '-f', '--', path])
  if (result.code !== 0) {
    throw new SshError(`${label}: K3s came back, but removing ${path} failed (exit ${result.code}): ${result.stderr.trim() || 'no message'}`, {
      host: session.host, path, hint: 'the next sync restarts K3s once more and tries again; or remove the file by hand',
    })
  }
}
