import { existsSync, readdirSync, readFileSync, rmSync } from 'node:fs'
import { setTimeout as sleep } from 'node:timers/promises'
import { detachedProcessState, logTail, startDetached, stopDetached, type DetachedProcessSpec, type DetachedProcessState } from '../detached-process.js'
import { LabStateError } from '../errors/lab-state-error.js'
import { controllerPaths, podPaths } from './controller-paths.js'
import { readPodIps } from './pod-ips.js'
import { livePodPid, stopPod } from './pod-process.js'
import { tsxProgramArgv } from './tsx-program.js'

export const LAB_CONTROLLER = 'lab-controller'

/** What `lab status` shows of one pod the controller runs. */
export type LabPodStatus = { kind: 'deployment' | 'job'; namespace: string; name: string; pid: number | undefined; alive: boolean; podIp: string | undefined; logFile: string }

export type LabControllerStatus = { controller: DetachedProcessState; pods: LabPodStatus[] }

export function labControllerSpec(stateDir: string, traefikIp = ''): DetachedProcessSpec {
  const marker = `--state-dir=${stateDir}`
  return { name: LAB_CONTROLLER, stateDir, marker, argv: tsxProgramArgv('lab-controller', [marker, `--traefik-ip=${traefikIp}`]) }
}

/** Starts the controller unless it runs; waits until its Traefik double listens. Returns whether it started it. */
export async function ensureLabController(stateDir: string, traefikIp: string, timeoutMs = 30_000): Promise<boolean> {
  const spec = labControllerSpec(stateDir, traefikIp)
  if (detachedProcessState(spec).alive) return false
  const ready = controllerPaths(stateDir).ready
  rmSync(ready, { force: true })
  const pid = startDetached(spec)
  const deadline = Date.now() + timeoutMs
  while (!(existsSync(ready) && readFileSync(ready, 'utf8').trim() === String(pid))) {
    const state = detachedProcessState(spec)
    const hint = `its log ${state.logFile} ends with:\n${logTail(state.logFile)}`
    if (!state.alive) throw new LabStateError('the lab controller exited while starting', { path: state.logFile, hint })
    if (Date.now() > deadline) throw new LabStateError(`the lab controller did not come up within ${timeoutMs / 1000}s`, { path: state.logFile, hint })
    await sleep(100)
  }
  return true
}

function podEntries(stateDir: string): { kind: 'deployment' | 'job'; namespace: string; name: string }[] {
  const dir = controllerPaths(stateDir).pods
  if (!existsSync(dir)) return []
  return readdirSync(dir).sort().flatMap((entry) => {
    const [kind, namespace = '', ...rest] = entry.split('.')
    return kind === 'deployment' || kind === 'job' ? [{ kind, namespace, name: rest.join('.') }] : []
  })
}

/** The controller process and every pod it started (from their pid files, checked against /proc). */
export function labControllerStatus(stateDir: string): LabControllerStatus {
  const ips = readPodIps(stateDir)
  const pods = podEntries(stateDir).map(({ kind, namespace, name }) => {
    const paths = podPaths(stateDir, kind, namespace, name)
    const pid = livePodPid(paths)
    return { kind, namespace, name, pid, alive: pid !== undefined, podIp: kind === 'deployment' ? ips[`${namespace}/${name}`] : undefined, logFile: paths.log }
  })
  return { controller: detachedProcessState(labControllerSpec(stateDir)), pods }
}

/** Stops the controller, then every pod process it started; returns what ran (`lab-controller`, `pod ns/name`). */
export async function stopLabController(stateDir: string): Promise<string[]> {
  const stopped: string[] = []
  if (await stopDetached(labControllerSpec(stateDir))) stopped.push(LAB_CONTROLLER)
  for (const { kind, namespace, name } of podEntries(stateDir)) {
    if (await stopPod(podPaths(stateDir, kind, namespace, name))) stopped.push(`pod ${namespace}/${name}`)
  }
  return stopped
}

