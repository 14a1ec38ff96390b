import { spawn } from 'node:child_process'
import { appendFileSync, closeSync, existsSync, mkdirSync, openSync, readdirSync, readFileSync, rmSync, symlinkSync, writeFileSync } from 'node:fs'
import { join } from 'node:path'
import { setTimeout as sleep } from 'node:timers/promises'
import { fileURLToPath } from 'node:url'
import { LabStateError } from '../errors/lab-state-error.js'
import type { PodPaths } from './controller-paths.js'

export type PodMount = { hostPath: string; containerPath: string; readOnly: boolean; isFile: boolean }

export type PodLaunch = {
  paths: PodPaths
  mounts: PodMount[]
  argv: string[]
  env: Record<string, string>
  /** A Job's pod: the shell waits for the program and records its exit code, instead of exec'ing it. */
  recordExitCode: boolean
}

/** `registry` (the image's binary name) on PATH inside every pod, pointing at Debian's docker-registry. */
export const POD_BIN_DIR = fileURLToPath(new URL('../../pod-bin', import.meta.url))
const POD_PATH = `${POD_BIN_DIR}:/usr/local/sbin:/usr/local/bin:/usr/sbin:/usr/bin:/sbin:/bin`
const DEVICES = ['null', 'zero', 'full', 'random', 'urandom', 'tty'] as const
const MARKER = 'HOMELAB_LAB_POD'

const quote = (value: string) => `'${value.replaceAll("'", `'\\''`)}'`

/** Pure. A container path the lab will create a mount point for: absolute, no `..`, nothing a shell could misread. */
export function checkMountPath(path: string): string | undefined {
  if (!path.startsWith('/') || path.split('/').includes('..') || /[\0\n]/.test(path)) return `mountPath ${JSON.stringify(path)} must be an absolute path without ..`
  if (path === '/' || ['/dev', '/proc', '/sys', '/tmp', '/etc/hosts'].some((p) => path === p || path.startsWith(`${p}/`))) {
    return `mountPath ${path} is one the lab provides itself (/dev, /proc, /sys, /tmp, /etc/hosts) or the root`
  }
  return undefined
}

/**
 * Pure. The shell script that builds the pod's mount namespace and runs its program. Mount points missing on the
 * host are created empty (a folder, or an empty file for a subPath file); the host's files are never written: every
 * mount lives only in the pod's private namespace.
 */
export function launchScript(launch: Pick<PodLaunch, 'paths' | 'mounts' | 'recordExitCode'>): string {
  const { paths } = launch
  const lines = ['set -eu']
  // Opened before /tmp is replaced, in case the state folder lives under /tmp.
  if (launch.recordExitCode) lines.push(`exec 3>${quote(paths.exitCode)}`)
  const byDepth = [...launch.mounts].sort((a, b) => a.containerPath.split('/').length - b.containerPath.split('/').length)
  for (const mount of byDepth) {
    const target = quote(mount.containerPath)
    lines.push(mount.isFile ? `[ -e ${target} ] || { mkdir -p "$(dirname ${target})"; : > ${target}; }` : `[ -d ${target} ] || mkdir -p ${target}`)
    lines.push(`mount --bind ${quote(mount.hostPath)} ${target}`)
    if (mount.readOnly) lines.push(`mount -o remount,bind,ro ${target}`)
  }
  for (const device of DEVICES) lines.push(`mount --bind /dev/${device} ${quote(join(paths.dev, device))}`)
  lines.push(`mount --rbind ${quote(paths.dev)} /dev`, `mount --bind ${quote(paths.hosts)} /etc/hosts`, 'mount -t tmpfs -o mode=1777 tmpfs /tmp', 'set +e')
  lines.push(launch.recordExitCode ? '"$@"\necho $? >&3' : 'exec "$@"')
  return `${lines.join('\n')}\n`
}

/** The pod's own /dev: empty files the real devices are bound onto, the fd links, and a fresh termination log. */
function preparePodDev(paths: PodPaths): void {
  rmSync(paths.dev, { recursive: true, force: true })
  mkdirSync(paths.dev, { recursive: true })
  for (const device of DEVICES) writeFileSync(join(paths.dev, device), '')
  writeFileSync(paths.terminationLog, '', { mode: 0o666 })
  symlinkSync('/proc/self/fd', join(paths.dev, 'fd'))
  for (const [i, name] of ['stdin', 'stdout', 'stderr'].entries()) symlinkSync(`/proc/self/fd/${i}`, join(paths.dev, name))
}

/** Starts the pod's program under `unshare -m` in its own process group; returns the pid (the program's own for a Deployment). */
export function startPod(launch: PodLaunch): number {
  const { paths } = launch
  preparePodDev(paths)
  rmSync(paths.exitCode, { force: true })
  writeFileSync(paths.runScript, launchScript(launch), { mode: 0o700 })
  appendFileSync(paths.log, `=== lab: ${new Date().toISOString()} starting ${launch.argv.join(' ')}\n`)
  const logFd = openSync(paths.log, 'a', 0o600)
  try {
    const env = { ...launch.env, PATH: launch.env.PATH ?? POD_PATH, HOSTNAME: launch.env.HOSTNAME ?? 'pod', [MARKER]: paths.dir }
    const child = spawn('unshare', ['-m', '--propagation', 'private', 'sh', paths.runScript, ...launch.argv], {
      detached: true, cwd: '/', env, stdio: ['ignore', logFd, logFd],
    })
    child.once('error', (error) => appendFileSync(paths.log, `=== lab: could not start: ${error.message}\n`))
    if (child.pid === undefined) throw new LabStateError(`could not start pod ${paths.dir}`, { path: paths.log, hint: 'is util-linux (unshare) installed?' })
    child.unref()
    writeFileSync(paths.pidFile, `${child.pid}\n`)
    return child.pid
  } finally {
    closeSync(logFd)
  }
}

function readProc(pid: number, file: string): string | undefined {
  try {
    return readFileSync(`/proc/${pid}/${file}`, 'utf8')
  } catch (error) {
    const code = (error as NodeJS.ErrnoException).code
    // Gone, or a process we may not inspect (pid 1 in some sandboxes): either way not one of our pods.
    if (code === 'ENOENT' || code === 'ESRCH' || code === 'EACCES') return undefined
    throw error
  }
}

/**
 * The pid in the pod's pid file if that process still is this pod: alive (not a zombie), with a command line, and
 * started with this pod's marker in its environment. A recycled pid is never taken for the pod.
 */
export function livePodPid(paths: PodPaths): number | undefined {
  if (!existsSync(paths.pidFile)) return undefined
  const pid = Number.parseInt(readFileSync(paths.pidFile, 'utf8'), 10)
  if (!Number.isInteger(pid) || pid <= 0) return undefined
  const stat = readProc(pid, 'stat')
  if (stat === undefined || /\) Z /.test(stat) || !readProc(pid, 'cmdline')) return undefined
  const environ = readProc(pid, 'environ')?.split('\0') ?? []
  return environ.includes(`${MARKER}=${paths.dir}`) ? pid : undefined
}

function signalGroup(pid: number, signal: NodeJS.Signals): void {
  try {
    process.kill(-pid, signal)
  } catch (error) {
    if ((error as NodeJS.ErrnoException).code !== 'ESRCH') throw error // ESRCH: the whole group is gone already
  }
}

/**
 * Whether any process of group `pgid` still runs. Zombies do not count: a pod whose controller restarted is
 * reparented to pid 1, which on some machines reaps late, and `kill(-pgid, 0)` would still find the zombie.
 */
function groupAlive(pgid: number): boolean {
  for (const entry of readdirSync('/proc')) {
    if (!/^\d+$/.test(entry)) continue
    const stat = readProc(Number(entry), 'stat')
    // Fields after the ")" that ends the command name: state ppid pgrp …
    const fields = stat?.slice(stat.lastIndexOf(')') + 2).split(' ')
    if (fields && fields[0] !== 'Z' && Number(fields[2]) === pgid) return true
  }
  return false
}

/** Stops the pod's whole process group (SIGTERM, SIGKILL after `timeoutMs`) if its pid is still the pod; returns whether it ran. */
export async function stopPod(paths: PodPaths, timeoutMs = 10_000): Promise<boolean> {
  const pid = livePodPid(paths)
  if (pid === undefined) return false
  signalGroup(pid, 'SIGTERM')
  const deadline = Date.now() + timeoutMs
  while (groupAlive(pid)) {
    if (Date.now() > deadline) {
      signalGroup(pid, 'SIGKILL')
      await sleep(200)
      break
    }
    await sleep(50)
  }
  appendFileSync(paths.log, `=== lab: ${new Date().toISOString()} stopped pid ${pid}\n`)
  return true
}

/** A Job pod's exit code, once its shell recorded it; undefined while running or when it was killed. */
export function recordedExitCode(paths: PodPaths): number | undefined {
  if (!existsSync(paths.exitCode)) return undefined
  const text = readFileSync(paths.exitCode, 'utf8').trim()
  return text === '' ? undefined : Number.parseInt(text, 10)
}
