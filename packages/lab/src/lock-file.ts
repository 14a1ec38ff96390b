import { readFileSync, renameSync, statSync, unlinkSync, writeFileSync } from 'node:fs'
import { setTimeout as sleep } from 'node:timers/promises'
import { LabTimeoutError } from './errors/lab-error.js'

export type LockOptions = {
  /** Called once when another live process holds the lock, with its pid. */
  onWait?: (holderPid: number) => void
  timeoutMs?: number
  pollMs?: number
}

/** True when a process with this pid exists (EPERM means it exists but belongs to someone else). */
export function isProcessAlive(pid: number): boolean {
  try {
    process.kill(pid, 0)
    return true
  } catch (error) {
    return (error as NodeJS.ErrnoException).code === 'EPERM'
  }
}

// A holder writes its pid right after creating the file; an empty file older than this is a crash, not a race.
const EMPTY_LOCK_GRACE_MS = 5_000

function holderOf(path: string): { pid: number | undefined; stale: boolean } | undefined {
  try {
    const pid = Number.parseInt(readFileSync(path, 'utf8'), 10)
    if (Number.isInteger(pid) && pid > 0) return { pid, stale: !isProcessAlive(pid) }
    return { pid: undefined, stale: Date.now() - statSync(path).mtimeMs > EMPTY_LOCK_GRACE_MS }
  } catch (error) {
    if ((error as NodeJS.ErrnoException).code === 'ENOENT') return undefined
    throw error
  }
}

function tryAcquire(path: string): boolean {
  try {
    writeFileSync(path, String(process.pid), { flag: 'wx', mode: 0o644 })
    return true
  } catch (error) {
    if ((error as NodeJS.ErrnoException).code === 'EEXIST') return false
    throw error
  }
}

function removeStale(path: string): void {
  // Rename first so two waiters that both saw the stale lock cannot delete a fresh one taken in between.
  const aside = `${path}.stale-${process.pid}`
  try {
    renameSync(path, aside)
    unlinkSync(aside)
  } catch (error) {
    if ((error as NodeJS.ErrnoException).code !== 'ENOENT') throw error
  }
}

/** Runs `fn` while holding an O_EXCL lock file holding our pid; a lock left by a dead process is taken over. */
export async function withLockFile<T>(path: string, fn: () => Promise<T>, options: LockOptions = {}): Promise<T> {
  const deadline = Date.now() + (options.timeoutMs ?? 30 * 60_000)
  let reported = false
  while (!tryAcquire(path)) {
    const holder = holderOf(path)
    if (holder?.stale) removeStale(path)
    else if (holder?.pid !== undefined && !reported) {
      options.onWait?.(holder.pid)
      reported = true
    }
    if (Date.now() > deadline) {
      throw new LabTimeoutError(`lock ${path} still held by pid ${holder?.pid ?? '?'}`, {
        path, hint: 'wait for that process to finish, or remove the lock file if it is gone',
      })
    }
    await sleep(options.pollMs ?? 500)
  }
  try {
    return await fn()
  } finally {
    if (holderOf(path)?.pid === process.pid) unlinkSync(path)
  }
}
