import { appendFileSync, existsSync, readFileSync } from 'node:fs'
import { setTimeout as sleep } from 'node:timers/promises'
import { kubeTime, setNodeReady } from './lab-node-object.js'
import { labNodeFiles, NODE_PATHS, type LabNodeSpec, type LabNodeUnit } from './lab-node-layout.js'
import { liveContainerdPid, renderFromRegistriesYaml, startContainerd, stopContainerd } from './node-containerd.js'

export type NodeProgramIo = { stdout: (text: string) => void; stderr: (text: string) => void }

/** The unit this node has (`<node>/lab-node/unit`, written by the host; tests switch it to play an agent). */
export function nodeUnit(spec: LabNodeSpec): LabNodeUnit {
  const file = labNodeFiles(spec.dir).unit
  return existsSync(file) && readFileSync(file, 'utf8').trim() === 'k3s-agent' ? 'k3s-agent' : 'k3s'
}

const unitName = (arg: string | undefined) => (arg ?? '').replace(/\.service$/, '')

/** Pure. A unit file close to what install.sh writes, enough for `systemctl cat` to prove the unit exists. */
export function unitFileText(unit: LabNodeUnit): string {
  return [`# /etc/systemd/system/${unit}.service`, '[Unit]', 'Description=Lightweight Kubernetes (homelab lab node)', '', '[Service]', 'Type=notify', 'KillMode=process', `ExecStart=/usr/local/bin/k3s ${unit === 'k3s' ? 'server' : 'agent'}`, ''].join('\n')
}

/**
 * What a K3s restart does to registries: stop containerd, render its config from registries.yaml, start it, and
 * report Ready to the API server once CRI answers. The restart log gets one line per restart, start and end times.
 */
async function restartK3s(spec: LabNodeSpec, unit: LabNodeUnit, io: NodeProgramIo): Promise<number> {
  const files = labNodeFiles(spec.dir)
  const started = new Date()
  const record = (outcome: string) => appendFileSync(files.restartLog, `${started.toISOString()} ${new Date().toISOString()} ${unit} ${outcome}\n`)
  await setNodeReady(spec.kubeconfigPath, spec.nodeName, { ready: false, reason: 'KubeletNotReady', message: `${unit} is restarting` }, started)
  await stopContainerd(spec)
  try {
    renderFromRegistriesYaml()
    await startContainerd(spec)
  } catch (error) {
    record('failed')
    io.stderr(`Job for ${unit}.service failed: ${(error as Error).message}\n`)
    return 1
  }
  if (existsSync(files.neverReady)) {
    record('never-ready')
    return 0
  }
  // Condition times have second precision: a Ready in the same second as the last one would look like the old one.
  while (kubeTime(new Date()) === kubeTime(started)) await sleep(20)
  await setNodeReady(spec.kubeconfigPath, spec.nodeName, { ready: true, reason: 'KubeletReady', message: 'kubelet is posting ready status' })
  record('ready')
  return 0
}

/** `systemctl` on a lab node: only the node's K3s unit exists; everything else is "not found", as on a real node. */
export async function runSystemctl(spec: LabNodeSpec, args: readonly string[], io: NodeProgramIo): Promise<number> {
  const [verb, ...rest] = args.filter((a) => !a.startsWith('-'))
  const unit = nodeUnit(spec)
  const asked = unitName(rest[0])
  const known = asked === unit
  switch (verb) {
    case 'cat':
      if (!known) return io.stderr(`No files found for ${asked}.service.\n`), 1
      return io.stdout(unitFileText(unit)), 0
    case 'is-active': {
      const active = known && liveContainerdPid(spec) !== undefined
      return io.stdout(active ? 'active\n' : 'inactive\n'), active ? 0 : 3
    }
    case 'list-unit-files':
      return io.stdout(`UNIT FILE STATE VENDOR PRESET\n${unit}.service enabled enabled\n\n1 unit files listed.\n`), 0
    case 'restart':
    case 'start':
      if (!known) return io.stderr(`Failed to ${verb} ${asked}.service: Unit ${asked}.service not found.\n`), 5
      if (verb === 'start' && liveContainerdPid(spec) !== undefined) return 0
      return restartK3s(spec, unit, io)
    case 'stop':
      if (!known) return io.stderr(`Failed to stop ${asked}.service: Unit ${asked}.service not loaded.\n`), 5
      await stopContainerd(spec)
      return 0
    default:
      return io.stderr(`lab systemctl: ${verb ?? '(nothing)'} is not simulated on ${spec.nodeName} (${NODE_PATHS.shimDir}/systemctl)\n`), 1
  }
}
