import { randomBytes } from 'node:crypto'
import { mkdirSync, renameSync, rmSync, writeFileSync } from 'node:fs'
import { dirname, join, basename } from 'node:path'
import { AwsProfileError } from './errors/aws-profile-error.js'

/**
 * Temp file in the same folder, then rename: a reader sees the old file or the new one, never half of one.
 * Mode 0600 because the credentials file is where people keep real keys too.
 */
export function writeFileAtomic(path: string, content: string): void {
  const temp = join(dirname(path), `.${basename(path)}.${randomBytes(4).toString('hex')}.tmp`)
  try {
    mkdirSync(dirname(path), { recursive: true, mode: 0o700 })
    writeFileSync(temp, content, { mode: 0o600 })
    renameSync(temp, path)
  } catch (error) {
    rmSync(temp, { force: true })
    throw new AwsProfileError(`cannot write ${path}: ${(error as Error).message}`, { path, cause: error, hint: 'check that the folder is writable by you' })
  }
}
