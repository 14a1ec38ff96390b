import { spawn } from 'node:child_process'
import { closeSync, existsSync, mkdirSync, openSync, readFileSync, rmSync, writeFileSync } from 'node:fs'
import { dirname, join } from 'node:path'
import { setTimeout as sleep } from 'node:timers/promises'
import { parse } from 'yaml'
import { LabStateError } from '../errors/lab-state-error.js'
import { renderContainerdFiles, type RegistriesYaml } from './containerd-config.js'
import { openCriClient } from './cri-client.js'
import { labNodeFiles, NODE_PATHS, type LabNodeSpec } from './lab-node-layout.js'

const CONTAINERD = '/usr/bin/containerd'
const START_TIMEOUT_MS = 20_000

/** The pid in the node's pid file, when it still is that node's containerd (a recycled pid is someone else's). */
export function liveContainerdPid(spec: LabNodeSpec): number | undefined {
  const pidFile = labNodeFiles(spec.dir).containerdPid
  if (!existsSync(pidFile)) return undefined
  const pid = Number.parseInt(readFileSync(pidFile, 'utf8'), 10)
  if (!Number.isInteger(pid) || pid <= 0) return undefined
  try {
    if (/\) Z /.test(readFileSync(`/proc/${pid}/stat`, 'utf8'))) return undefined
    const cmdline = readFileSync(`/proc/${pid}/cmdline`, 'utf8').split('\0')
    // Same config path is not enough: every node's config has the same in-namespace path. The pid file is per node.
    return cmdline[0] === CONTAINERD && cmdline.includes(NODE_PATHS.containerdConfig) ? pid : undefined
  } catch (error) {
    if ((error as NodeJS.ErrnoException).code === 'ENOENT') return undefined
    throw error
  }
}

/** SIGTERM, SIGKILL after 5 s; only the pid this node's pid file names. */
export async function stopContainerd(spec: LabNodeSpec): Promise<boolean> {
  const pid = liveContainerdPid(spec)
  if (pid === undefined) return false
  process.kill(pid, 'SIGTERM')
  for (let waited = 0; liveContainerdPid(spec) !== undefined; waited += 50) {
    if (waited === 5_000) process.kill(pid, 'SIGKILL')
    await sleep(50)
  }
  rmSync(labNodeFiles(spec.dir).containerdPid, { force: true })
  return true
}

/**
 * What K3s does with registries.yaml on start: render containerd's config.toml (auth, 0600) and certs.d hosts.toml
 * files. A file that does not parse fails the start, as it fails K3s. Must run inside the node's namespace.
 */
export function renderFromRegistriesYaml(): void {
  const text = existsSync(NODE_PATHS.registriesYaml) ? readFileSync(NODE_PATHS.registriesYaml, 'utf8') : ''
  let registries: RegistriesYaml
  try {
    registries = (parse(text) ?? {}) as RegistriesYaml
  } catch (error) {
    throw new LabStateError(`${NODE_PATHS.registriesYaml} does not parse: ${(error as Error).message}`, { path: NODE_PATHS.registriesYaml })
  }
  const files = renderContainerdFiles(registries)
  mkdirSync(dirname(NODE_PATHS.containerdConfig), { recursive: true })
  writeFileSync(NODE_PATHS.containerdConfig, files.configToml, { mode: 0o600 })
  rmSync(NODE_PATHS.certsDir, { recursive: true, force: true })
  for (const [dir, text] of Object.entries(files.hostsToml)) {
    mkdirSync(join(NODE_PATHS.certsDir, dir), { recursive: true })
    writeFileSync(join(NODE_PATHS.certsDir, dir, 'hosts.toml'), text, { mode: 0o644 })
  }
}

/** Starts containerd detached (it outlives the SSH session that restarted it) and waits until CRI answers. */
export async function startContainerd(spec: LabNodeSpec): Promise<number> {
  for (const dir of [NODE_PATHS.containerdRoot, NODE_PATHS.containerdState]) mkdirSync(dir, { recursive: true })
  const log = openSync(NODE_PATHS.containerdLog, 'a', 0o600)
  let pid: number | undefined
  try {
    const child = spawn(CONTAINERD, ['--config', NODE_PATHS.containerdConfig], { detached: true, stdio: ['ignore', log, log] })
    child.once('error', (error) => void error)
    pid = child.pid
    if (pid === undefined) throw new LabStateError(`could not start ${CONTAINERD}`, { hint: 'apt-get install containerd' })
    child.unref()
  } finally {
    closeSync(log)
  }
  writeFileSync(labNodeFiles(spec.dir).containerdPid, `${pid}\n`, { mode: 0o600 })
  await waitForCri(spec, pid)
  return pid
}

async function waitForCri(spec: LabNodeSpec, pid: number): Promise<void> {
  const deadline = Date.now() + START_TIMEOUT_MS
  const cri = await openCriClient({ kubernetesSource: spec.kubernetesSource, socket: NODE_PATHS.containerdSocket, timeoutMs: 1_000 })
  try {
    for (;;) {
      if (liveContainerdPid(spec) !== pid) throw new LabStateError(`containerd on ${spec.nodeName} exited at start`, { path: NODE_PATHS.containerdLog })
      if (await cri.version().then(() => true, () => false)) return
      if (Date.now() > deadline) throw new LabStateError(`containerd on ${spec.nodeName} did not answer CRI within ${START_TIMEOUT_MS} ms`, { path: NODE_PATHS.containerdLog })
      await sleep(100)
    }
  } finally {
    cri.close()
  }
}
