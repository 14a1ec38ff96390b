import { posix } from 'node:path'

export type WriteFileAtomicOptions = {
  /** Defaults to 0o600: the files we write on nodes hold registry credentials. */
  mode?: number
  /** Keep the previous file as `<name>.bak-<UTC timestamp>`, and only the newest `keep` of those. */
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

/** Pure. The backups to delete so that `keep` remain, oldest first. */
export function backupsToPrune(names: readonly string[], base: string, keep: number): string[] {
  const backups = names.filter((n) => n.startsWith(backupPrefix(base))).sort()
  return backups.slice(0, Math.max(0, backups.length - keep))
}
