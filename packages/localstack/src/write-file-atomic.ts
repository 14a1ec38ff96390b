import { randomBytes } from 'node:crypto'
import { lstatSync, mkdirSync, readlinkSync, renameSync, rmSync, writeFileSync } from 'node:fs'
import { basename, dirname, join, resolve } from 'node:path'
import { AwsProfileError } from './errors/aws-profile-error.js'

/**
 * The file a write to `path` must replace: a symlink's target, followed link by link, even when the target does not
 * exist yet. Renaming over the link itself would turn a dotfiles symlink into a plain file.
 */
export function symlinkTarget(path: string): string {
  let current = path
  for (let hops = 0; hops < 40; hops++) {
    const stat = lstatSync(current, { throwIfNoEntry: false })
    if (!stat?.isSymbolicLink()) return current
    current = resolve(dirname(current), readlinkSync(current))
  }
  throw new AwsProfileError(`cannot write ${path}: too many levels of symbolic links`, { path, hint: 'fix the symlink loop' })
}

/**
 * Temp file in the same folder as the real file, then rename: a reader sees the old file or the new one, never half of
 * one. Mode 0600 because the credentials file is where people keep real keys too.
 */
export function writeFileAtomic(path: string, content: string): void {
  let target = path
  let temp: string | undefined
  try {
    target = symlinkTarget(path)
    temp = join(dirname(target), `.${basename(target)}.${randomBytes(4).toString('hex')}.tmp`)
    mkdirSync(dirname(target), { recursive: true, mode: 0o700 })
    writeFileSync(temp, content, { mode: 0o600 })
    renameSync(temp, target)
  } catch (error) {
    if (temp !== undefined) rmSync(temp, { force: true })
    if (error instanceof AwsProfileError) throw error
    const where = target === path ? path : `${path} (a link to ${target})`
    throw new AwsProfileError(`cannot write ${where}: ${(error as Error).message}`, { path: target, cause: error, hint: 'check that the folder is writable by you' })
  }
}
