import { spawn } from 'node:child_process'
import { existsSync, mkdirSync, readdirSync, readFileSync, rmSync, writeFileSync } from 'node:fs'
import { join, resolve } from 'node:path'
import { fileURLToPath } from 'node:url'
import { ensureDebianPackages } from '../debian-packages.js'
import { LabCommandError } from '../errors/lab-command-error.js'
import { LabKubeError } from '../errors/lab-error.js'
import { LabStateError } from '../errors/lab-state-error.js'
import { DEFAULT_CACHE_DIR } from '../lab-paths.js'
import { startSshNodes, stopSshNodes, type SshNode, type SshNodes, type StartSshNodesOptions } from '../ssh-nodes.js'
import { deleteNodeObject, ensureNodeObject, setNodeReady } from './lab-node-object.js'
import { labNodeFiles, labNodeName, NODE_PATHS, type LabNodeSpec, type LabNodeUnit } from './lab-node-layout.js'
import { liveContainerdPid, stopContainerd } from './node-containerd.js'

export type LabNode = SshNode & {
  /** The Node object's name in the lab API server. */
  nodeName: string
  /** One line per K3s restart: `<start ISO> <end ISO> <unit> <outcome>`. */
  restartLog: string
  spec: LabNodeSpec
}

export type LabNodes = Omit<SshNodes, 'nodes'> & { nodes: LabNode[] }

export type StartLabNodesOptions = StartSshNodesOptions & {
  /** The lab API server's kubeconfig (`useLab()`'s `kubeconfigPath`): Node objects live there. */
  kubeconfigPath: string
  /** Where `registry.<domain>` and the other service hosts resolve on the nodes; default the Traefik IP 127.0.2.1. */
  servicesIp?: string
  /** Host names the node's /etc/hosts maps to `servicesIp`. */
  serviceHosts?: readonly string[]
  /** The unit every node starts with; tests switch single nodes with `setLabNodeUnit`. Default `k3s`. */
  unit?: LabNodeUnit
  /** The build cache holding the kubernetes source (for the CRI proto); default /var/cache/homelab-lab. */
  cacheDir?: string
}

const PROGRAM = fileURLToPath(new URL('../../tasks/lab-node-program.ts', import.meta.url))
const DEFAULT_SERVICE_HOSTS = ['registry.homelab.local', 'registry-ui.homelab.local', 'localstack.homelab.local']

/** The unpacked kubernetes source tree in the build cache; the lab's kube-apiserver build put it there. */
export function kubernetesSourceTree(cacheDir: string): string {
  const srcDir = join(resolve(cacheDir), 'src')
  const name = existsSync(srcDir) ? readdirSync(srcDir).find((e) => /^kubernetes-\d/.test(e) && existsSync(join(srcDir, e, 'staging', 'src', 'k8s.io', 'cri-api'))) : undefined
  if (name === undefined) throw new LabStateError(`no kubernetes source tree with the CRI api under ${srcDir}`, { path: srcDir, hint: 'run `pnpm lab up` once: it unpacks the source' })
  return join(srcDir, name)
}

/** Runs argv inside the node's mount namespace (where sshd and everything started over SSH live). */
export function inNodeNamespace(node: Pick<SshNode, 'pid' | 'name'>, argv: readonly string[]): Promise<string> {
  return new Promise((resolvePromise, reject) => {
    const child = spawn('nsenter', [`--mount=/proc/${node.pid}/ns/mnt`, '--', ...argv], { stdio: ['ignore', 'pipe', 'pipe'] })
    let output = ''
    child.stdout.on('data', (d: Buffer) => (output += d.toString()))
    child.stderr.on('data', (d: Buffer) => (output += d.toString()))
    child.once('error', (error) => reject(new LabCommandError(`nsenter for ${node.name} could not start`, { argv, exitCode: null, outputTail: '', cause: error })))
    child.once('close', (code) => {
      if (code === 0) return resolvePromise(output)
      reject(new LabCommandError(`${argv.join(' ')} in ${node.name}'s namespace exited with ${code}:\n${output.trim()}`, { argv, exitCode: code, outputTail: output }))
    })
  })
}

function mountedAt(node: SshNode, path: string): boolean {
  return readFileSync(`/proc/${node.pid}/mountinfo`, 'utf8').split('\n').some((line) => line.split(' ')[4] === path)
}

/** Pure. The sh shim for one node program: absolute paths only, because sudo and sshd each set their own PATH. */
export function shimScript(specPath: string, program: string): string {
  const tsx = import.meta.resolve('tsx/esm')
  return `#!/bin/sh\n# Lab node stand-in for ${program}: see packages/lab/src/nodes.\nexec ${process.execPath} --import '${tsx}' '${PROGRAM}' '${specPath}' ${program} "$@"\n`
}

function writeNodeFiles(node: SshNode, spec: LabNodeSpec, options: StartLabNodesOptions): void {
  const files = labNodeFiles(node.dir)
  mkdirSync(files.shims, { recursive: true })
  mkdirSync(files.faults, { recursive: true })
  writeFileSync(files.spec, `${JSON.stringify(spec, null, 2)}\n`, { mode: 0o600 })
  const names = (options.serviceHosts ?? DEFAULT_SERVICE_HOSTS).join(' ')
  writeFileSync(files.hosts, `127.0.0.1 localhost\n${node.host} ${spec.nodeName}\n${options.servicesIp ?? '127.0.2.1'} ${names}\n`, { mode: 0o644 })
  for (const program of ['systemctl', 'k3s', 'crictl']) writeFileSync(join(files.shims, program), shimScript(files.spec, program), { mode: 0o755 })
  if (!existsSync(files.unit)) writeFileSync(files.unit, `${options.unit ?? 'k3s'}\n`)
}

/** Bind mounts only this node sees: its /etc/hosts and its shims first on PATH. Skipped when already there. */
async function mountNodeFiles(node: SshNode): Promise<void> {
  const files = labNodeFiles(node.dir)
  for (const [source, target] of [[files.hosts, '/etc/hosts'], [files.shims, NODE_PATHS.shimDir]] as const) {
    if (!mountedAt(node, target)) await inNodeNamespace(node, ['mount', '--bind', source, target])
  }
}

async function startLabNode(node: SshNode, options: StartLabNodesOptions, kubernetesSource: string): Promise<LabNode> {
  const nodeName = labNodeName(node.host)
  const spec: LabNodeSpec = { nodeName, host: node.host, dir: node.dir, kubeconfigPath: resolve(options.kubeconfigPath), kubernetesSource }
  writeNodeFiles(node, spec, options)
  await mountNodeFiles(node)
  await ensureNodeObject(spec.kubeconfigPath, nodeName, node.host, options.unit === 'k3s-agent' ? 'agent' : 'server')
  if (liveContainerdPid(spec) === undefined) await inNodeNamespace(node, [join(NODE_PATHS.shimDir, 'systemctl'), 'start', readFileSync(labNodeFiles(node.dir).unit, 'utf8').trim()])
  else await setNodeReady(spec.kubeconfigPath, nodeName, { ready: true, reason: 'KubeletReady', message: 'kubelet is posting ready status' })
  return { ...node, nodeName, restartLog: labNodeFiles(node.dir).restartLog, spec }
}

/**
 * K3s nodes on loopback: the sshd nodes of startSshNodes, each with a real containerd (CRI on) in its namespace, a
 * `systemctl`/`k3s`/`crictl` stand-in on its PATH, an /etc/hosts of its own, and a Ready Node object in the lab API
 * server. Idempotent: running nodes and containerds are reused.
 */
export async function startLabNodes(options: StartLabNodesOptions): Promise<LabNodes> {
  await ensureDebianPackages(['containerd'])
  const kubernetesSource = kubernetesSourceTree(options.cacheDir ?? DEFAULT_CACHE_DIR)
  const ssh = await startSshNodes(options)
  const nodes = await Promise.all(ssh.nodes.map((node) => startLabNode(node, options, kubernetesSource)))
  return { ...ssh, nodes, stop: async () => void (await stopLabNodes(options.stateDir)) }
}

/** Stops every node's containerd and sshd in this state folder and removes their Node objects; returns the names. */
export async function stopLabNodes(stateDir: string): Promise<string[]> {
  const nodesDir = join(resolve(stateDir), 'nodes')
  const specs = existsSync(nodesDir)
    ? readdirSync(nodesDir).map((n) => labNodeFiles(join(nodesDir, n)).spec).filter(existsSync).map((f) => JSON.parse(readFileSync(f, 'utf8')) as LabNodeSpec)
    : []
  await Promise.all(specs.map((spec) => stopContainerd(spec)))
  for (const spec of specs) {
    await deleteNodeObject(spec.kubeconfigPath, spec.nodeName).catch((error: unknown) => {
      // With the API server already gone (lab down ran first) there is no Node object left to remove.
      if (!(error instanceof LabKubeError) || error.status !== undefined) throw error
    })
  }
  return stopSshNodes(stateDir)
}

export type LabNodeFault = 'never-ready' | 'read-only' | 'full' | 'none'

/**
 * Faults for tests. `never-ready`: the next restarts leave the Node NotReady. `read-only`: /etc/rancher is remounted
 * read-only. `full`: /etc/rancher/k3s becomes a 64 KiB tmpfs (existing files copied in) filled to the last block.
 * `none` undoes all three.
 */
export async function setLabNodeFault(node: LabNode, fault: LabNodeFault): Promise<void> {
  const files = labNodeFiles(node.dir)
  if (fault === 'never-ready') return writeFileSync(files.neverReady, '')
  if (fault === 'read-only') return void (await inNodeNamespace(node, ['mount', '-o', 'remount,bind,ro', '/etc/rancher']))
  if (fault === 'full') return void (await inNodeNamespace(node, ['sh', '-c', FILL_SCRIPT]))
  rmSync(files.neverReady, { force: true })
  if (mountedAt(node, '/etc/rancher/k3s')) await inNodeNamespace(node, ['sh', '-c', UNFILL_SCRIPT])
  await inNodeNamespace(node, ['mount', '-o', 'remount,bind,rw', '/etc/rancher'])
}

const FILL_SCRIPT = [
  'set -e', 'keep=$(mktemp -d)', 'mkdir -p /etc/rancher/k3s', 'cp -a /etc/rancher/k3s/. "$keep"/',
  'mount -t tmpfs -o size=64k,mode=0755 lab-full /etc/rancher/k3s', 'cp -a "$keep"/. /etc/rancher/k3s/', 'rm -rf "$keep"',
  // dd stops at ENOSPC, which is the point.
  'dd if=/dev/zero of=/etc/rancher/k3s/.lab-filler bs=1k 2>/dev/null || true',
].join('\n')

const UNFILL_SCRIPT = [
  'set -e', 'keep=$(mktemp -d)', 'rm -f /etc/rancher/k3s/.lab-filler', 'cp -a /etc/rancher/k3s/. "$keep"/',
  'umount /etc/rancher/k3s', 'cp -a "$keep"/. /etc/rancher/k3s/', 'rm -rf "$keep"',
].join('\n')

/** Plays a server (`k3s`) or an agent (`k3s-agent`) from the next systemctl call on. */
export function setLabNodeUnit(node: LabNode, unit: LabNodeUnit): void {
  writeFileSync(labNodeFiles(node.dir).unit, `${unit}\n`)
}

/** The node's restart log as records, oldest first. */
export function labNodeRestarts(node: LabNode): { start: Date; end: Date; unit: string; outcome: string }[] {
  if (!existsSync(node.restartLog)) return []
  return readFileSync(node.restartLog, 'utf8').trim().split('\n').filter(Boolean).map((line) => {
    const [start = '', end = '', unit = '', outcome = ''] = line.split(' ')
    return { start: new Date(start), end: new Date(end), unit, outcome }
  })
}
