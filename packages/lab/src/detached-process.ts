import { spawn } from 'node:child_process'
import { closeSync, existsSync, openSync, readFileSync, rmSync, writeFileSync } from 'node:fs'
import { basename } from 'node:path'
import { setTimeout as sleep } from 'node:timers/promises'
import { LabStateError } from './errors/lab-state-error.js'
import { processFiles } from './lab-paths.js'

/**
 * A long-running lab program. `marker` is one argv element unique to this lab (`--data-dir=<state>/etcd`): a pid is
 * ours only when `/proc/<pid>/cmdline` starts with a program of the same name and holds the marker, so a recycled pid
 * is never killed.
 */
export type DetachedProcessSpec = { name: string; stateDir: string; argv: readonly string[]; marker: string }

export type DetachedProcessState = { name: string; pid: number | undefined; alive: boolean; logFile: string; pidFile: string }

function cmdlineOf(pid: number): string[] | undefined {
  try {
    const stat = readFileSync(`/proc/${pid}/stat`, 'utf8')
    if (/\) Z /.test(stat)) return undefined // exited, waiting to be reaped
    return readFileSync(`/proc/${pid}/cmdline`, 'utf8').split('\0').filter(Boolean)
  } catch (error) {
    if ((error as NodeJS.ErrnoException).code === 'ENOENT') return undefined
    throw error
  }
}

function pidFromFile(pidFile: string): number | undefined {
  if (!existsSync(pidFile)) return undefined
  const pid = Number.parseInt(readFileSync(pidFile, 'utf8'), 10)
  return Number.isInteger(pid) && pid > 0 ? pid : undefined
}

/** The pid from the pid file, and whether that pid is still this very program. */
export function detachedProcessState(spec: DetachedProcessSpec): DetachedProcessState {
  const { pidFile, logFile } = processFiles(spec.stateDir, spec.name)
  const pid = pidFromFile(pidFile)
  const cmdline = pid === undefined ? undefined : cmdlineOf(pid)
  // Same program name, not path: a lab started with another cache folder must still be found and stopped.
  const sameProgram = cmdline?.[0] !== undefined && basename(cmdline[0]) === basename(spec.argv[0] ?? '')
  const alive = sameProgram && cmdline !== undefined && cmdline.includes(spec.marker)
  return { name: spec.name, pid, alive, logFile, pidFile }
}

/** Starts the program in its own session (it outlives us), output appended to `<name>.log`; writes `<name>.pid`. */
export function startDetached(spec: DetachedProcessSpec): number {
  const [command, ...args] = spec.argv
  if (command === undefined || !spec.argv.includes(spec.marker)) throw new TypeError(`${spec.name}: argv must hold the marker`)
  const { pidFile, logFile } = processFiles(spec.stateDir, spec.name)
  const logFd = openSync(logFile, 'a', 0o600)
  try {
    const child = spawn(command, args, { detached: true, stdio: ['ignore', logFd, logFd], cwd: spec.stateDir })
    // A spawn failure also arrives as an 'error' event; the missing pid below already reports it.
    child.once('error', (error) => void error)
    if (child.pid === undefined) {
      throw new LabStateError(`could not start ${command}`, { path: command, hint: 'is it installed? `pnpm lab up` installs the lab packages' })
    }
    child.unref()
    writeFileSync(pidFile, `${child.pid}\n`, { mode: 0o600 })
    return child.pid
  } finally {
    closeSync(logFd)
  }
}

/** Stops the program if its pid file names it (SIGTERM, then SIGKILL after `timeoutMs`); returns whether it ran. */
export async function stopDetached(spec: DetachedProcessSpec, timeoutMs = 10_000): Promise<boolean> {
  const state = detachedProcessState(spec)
  if (state.pid === undefined || !state.alive) {
    rmSync(state.pidFile, { force: true })
    return false
  }
  signal(state.pid, 'SIGTERM')
  if (!(await exited(spec, timeoutMs))) {
    signal(state.pid, 'SIGKILL')
    await exited(spec, 5_000)
  }
  rmSync(state.pidFile, { force: true })
  return true
}

function signal(pid: number, name: NodeJS.Signals): void {
  try {
    process.kill(pid, name)
  } catch (error) {
    if ((error as NodeJS.ErrnoException).code !== 'ESRCH') throw error // ESRCH: it exited on its own meanwhile
  }
}

async function exited(spec: DetachedProcessSpec, timeoutMs: number): Promise<boolean> {
  const deadline = Date.now() + timeoutMs
  while (detachedProcessState(spec).alive) {
    if (Date.now() > deadline) return false
    await sleep(100)
  }
  return true
}

/** The last `lines` lines of a log file, for error messages. */
export function logTail(logFile: string, lines = 15): string {
  if (!existsSync(logFile)) return '(no log)'
  return readFileSync(logFile, 'utf8').trimEnd().split('\n').slice(-lines).join('\n')
}
