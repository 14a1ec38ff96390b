import { randomBytes } from 'node:crypto'
import { posix } from 'node:path'
import type { SFTPWrapper } from 'ssh2'
import { SshError } from '../errors/ssh-error.js'
import {
  backupPrefix,
  backupsToPrune,
  backupStamp,
  DEFAULT_FILE_MODE,
  splitPath,
  tempPrefix,
  type WriteFileAtomicOptions,
} from './remote-file-names.js'

// SFTP status code for a missing path (draft-ietf-secsh-filexfer-02, SSH_FX_NO_SUCH_FILE).
const NO_SUCH_FILE = 2
const CHUNK = 1024 * 1024

const isMissing = (error: unknown): boolean => (error as { code?: unknown }).code === NO_SUCH_FILE

function call<T = void>(start: (done: (error: Error | undefined | null, value?: T) => void) => void): Promise<T> {
  return new Promise((resolve, reject) => start((error, value) => (error ? reject(error) : resolve(value as T))))
}

/** The file's bytes, or undefined when it does not exist. */
export async function sftpReadFile(sftp: SFTPWrapper, host: string, path: string): Promise<Buffer | undefined> {
  try {
    return await call<Buffer>((done) => sftp.readFile(path, done))
  } catch (error) {
    if (isMissing(error)) return undefined
    throw new SshError(`${host}: reading ${path} over SFTP failed: ${(error as Error).message}`, { host, path, cause: error })
  }
}

async function ensureDirectory(sftp: SFTPWrapper, dir: string): Promise<void> {
  try {
    await call((done) => sftp.stat(dir, (error) => done(error)))
  } catch (error) {
    if (!isMissing(error) || dir === '/') throw error
    await ensureDirectory(sftp, posix.dirname(dir))
    await call((done) => sftp.mkdir(dir, { mode: 0o755 }, done))
  }
}

async function writeTemp(sftp: SFTPWrapper, temp: string, data: Buffer, mode: number): Promise<void> {
  const handle = await call<Buffer>((done) => sftp.open(temp, 'wx', { mode }, done))
  try {
    for (let offset = 0; offset < data.length; offset += CHUNK) {
      const length = Math.min(CHUNK, data.length - offset)
      await call((done) => sftp.write(handle, data, offset, length, offset, (error) => done(error)))
    }
    // Data on disk before the rename makes it visible, or a power cut could leave an empty registries.yaml.
    await call((done) => sftp.ext_openssh_fsync(handle, (error) => done(error)))
    // open() modes pass through the server's umask; the file must end up with exactly this mode.
    await call((done) => sftp.fchmod(handle, mode, done))
  } finally {
    await call((done) => sftp.close(handle, done))
  }
}

/**
 * Temp file in the same directory, fsync, chmod, optional hard-link backup of the old file, then posix-rename: a
 * reader sees the old file or the new one, never a mix, even if this process dies half-way.
 */
export async function sftpWriteFileAtomic(sftp: SFTPWrapper, host: string, path: string, data: Buffer, options: WriteFileAtomicOptions = {}): Promise<void> {
  const { dir, base } = splitPath(path)
  const mode = options.mode ?? DEFAULT_FILE_MODE
  const temp = posix.join(dir, `${tempPrefix(base)}${randomBytes(6).toString('hex')}`)
  let stage = 'creating the directory'
  try {
    await ensureDirectory(sftp, dir)
    stage = 'removing stale temp files'
    const before = await removeStaleTemps(sftp, dir, base)
    stage = 'writing the temp file'
    await writeTemp(sftp, temp, data, mode)
    if (options.backup && options.backup.keep > 0 && before.includes(base)) {
      stage = 'keeping a backup'
      // A hard link keeps the old inode under the backup name at no copy cost; the rename then swaps only the name.
      await call((done) => sftp.ext_openssh_hardlink(path, posix.join(dir, backupPrefix(base) + backupStamp(new Date())), done))
    }
    stage = 'renaming the temp file over the target'
    await call((done) => sftp.ext_openssh_rename(temp, path, done))
    if (options.backup) await pruneBackups(sftp, dir, base, options.backup.keep)
  } catch (error) {
    // The temp file may not exist yet; the error worth reporting is the one below.
    await call((done) => sftp.unlink(temp, done)).catch(() => undefined)
    throw new SshError(`${host}: writing ${path} over SFTP failed while ${stage}: ${(error as Error).message}`, { host, path, cause: error })
  }
}

async function listNames(sftp: SFTPWrapper, dir: string): Promise<string[]> {
  const entries = await call<{ filename: string }[]>((done) => sftp.readdir(dir, done))
  return entries.map((e) => e.filename)
}

/** Leftovers of a writer that was killed mid-transfer; one writer per node and file, so no live write is hit. */
async function removeStaleTemps(sftp: SFTPWrapper, dir: string, base: string): Promise<string[]> {
  const names = await listNames(sftp, dir)
  for (const name of names.filter((n) => n.startsWith(tempPrefix(base)))) {
    await call((done) => sftp.unlink(posix.join(dir, name), done))
  }
  return names
}

async function pruneBackups(sftp: SFTPWrapper, dir: string, base: string, keep: number): Promise<void> {
  for (const name of backupsToPrune(await listNames(sftp, dir), base, keep)) {
    await call((done) => sftp.unlink(posix.join(dir, name), done))
  }
}
