import { posix } from 'node:path'

export type WriteFileAtomicOptions = {
  /** Defaults to 0o600: the files we write on nodes hold registry credentials. */
  mode?: number
  /**
   * Keep the previous file as `<name>.bak-<UTC timestamp>`, and only the newest `keep` of those. Only names in exactly
   * that form are pruned (an operator's `<name>.bak-before-upgrade` is not ours); `keep: 0` makes no backup and
   * prunes nothing.
   */
  backup?: { keep: number }
}

export const DEFAULT_FILE_MODE = 0o600

/*
 * The temp file lives next to the target (rename is only atomic within one filesystem) and starts with a dot plus a
 * fixed marker, so a writer killed mid-transfer leaves something recognisable that the next write removes.
 */
export const tempPrefix = (base: string): string => `.${base}.homelab-tmp-`
export const backupPrefix = (base: string): string => `${base}.bak-`

/** Fixed width and UTC, so sorting the names sorts the backups by age. Milliseconds: two writes can share a second. */
export function backupStamp(now: Date): string {
  return now.toISOString().replace(/[-:]/g, '')
}

export function splitPath(path: string): { dir: string; base: string } {
  if (!posix.isAbsolute(path)) throw new TypeError(`remote path must be absolute: ${path}`)
  return { dir: posix.dirname(path), base: posix.basename(path) }
}

// backupStamp's exact form; the shell glob is the same pattern for the sudo path's `sh`.
const STAMP = /^\d{8}T\d{6}\.\d{3}Z$/
export const BACKUP_STAMP_GLOB = '[0-9][0-9][0-9][0-9][0-9][0-9][0-9][0-9]T[0-9][0-9][0-9][0-9][0-9][0-9].[0-9][0-9][0-9]Z'

/** Pure. A backup this tool made of `base`: the prefix and then nothing but a timestamp in backupStamp's form. */
export function isOwnBackup(name: string, base: string): boolean {
  return name.startsWith(backupPrefix(base)) && STAMP.test(name.slice(backupPrefix(base).length))
}

/** Pure. Our backups to delete so that `keep` remain, oldest first; none when keep is 0 (backups are off). */
export function backupsToPrune(names: readonly string[], base: string, keep: number): string[] {
  if (keep <= 0) return []
  const backups = names.filter((n) => isOwnBackup(n, base)).sort()
  return backups.slice(0, Math.max(0, backups.length - keep))
}
