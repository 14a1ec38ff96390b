import { existsSync, mkdirSync, readFileSync, renameSync, writeFileSync } from 'node:fs'
import { dirname } from 'node:path'
import { LabStateError } from '../errors/lab-state-error.js'
import { controllerPaths } from './controller-paths.js'

/** Pods get loopback addresses from this /24: every 127.0.0.0/8 address is local, so each pod can own its ports. */
export const POD_IP_PREFIX = '127.0.3.'

/** Pure. The recorded IP of `key`, or the lowest free one in 127.0.3.1–254. */
export function allocatePodIp(assigned: Readonly<Record<string, string>>, key: string): string {
  const existing = assigned[key]
  if (existing !== undefined) return existing
  const used = new Set(Object.values(assigned))
  for (let last = 1; last <= 254; last++) {
    const ip = `${POD_IP_PREFIX}${last}`
    if (!used.has(ip)) return ip
  }
  throw new LabStateError(`no free pod IP left in ${POD_IP_PREFIX}0/24 for ${key}`, { hint: 'delete Deployments you no longer need, or `pnpm lab down`' })
}

export function readPodIps(stateDir: string): Record<string, string> {
  const file = controllerPaths(stateDir).podIps
  return existsSync(file) ? (JSON.parse(readFileSync(file, 'utf8')) as Record<string, string>) : {}
}

function writePodIps(stateDir: string, assigned: Record<string, string>): void {
  const file = controllerPaths(stateDir).podIps
  mkdirSync(dirname(file), { recursive: true })
  writeFileSync(`${file}.tmp`, `${JSON.stringify(assigned, null, 2)}\n`)
  renameSync(`${file}.tmp`, file)
}

/**
 * The pod IPs of Deployments `keys` (`namespace/name`): kept while the Deployment exists, so an address never moves;
 * allocated on first sight; released when the Deployment is gone, so a long-lived lab does not run out.
 */
export function podIpsFor(stateDir: string, keys: readonly string[], existing: ReadonlySet<string>): Map<string, string> {
  const before = readPodIps(stateDir)
  const assigned = Object.fromEntries(Object.entries(before).filter(([key]) => existing.has(key)))
  for (const key of keys) assigned[key] = allocatePodIp(assigned, key)
  if (JSON.stringify(assigned) !== JSON.stringify(before)) writePodIps(stateDir, assigned)
  return new Map(keys.map((key) => [key, assigned[key] ?? '']))
}
