import { spawn } from 'node:child_process'
import { closeSync, existsSync, mkdirSync, openSync, readdirSync, readFileSync, rmSync, writeFileSync } from 'node:fs'
import { connect } from 'node:net'
import { join, resolve } from 'node:path'
import { setTimeout as sleep } from 'node:timers/promises'
import { ensureDebianPackages } from './debian-packages.js'
import { logTail } from './detached-process.js'
import { LabStateError } from './errors/lab-state-error.js'
import { ensureLabSudoUser, type LabSudoUser } from './lab-sudo-user.js'
import { ensureEd25519Key, publicKeyFields } from './ssh-keys.js'

/**
 * The lab nodes' sshd port. Not 22: Debian under systemd starts its own sshd on 0.0.0.0:22 once openssh-server is
 * installed (the lab installs it), and that listener holds port 22 on every loopback address too.
 */
export const LAB_SSH_PORT = 10022

export type SshNode = { name: string; host: string; port: number; dir: string; etcRancher: string; varLibRancher: string; pid: number }

export type SshNodes = {
  nodes: SshNode[]
  clientKeyPath: string
  knownHostsPath: string
  /** A non-root user whose sudo asks for its password, authorised with the same client key. */
  sudoUser: LabSudoUser
  stop(): Promise<void>
}

export type StartSshNodesOptions = {
  stateDir: string
  count: number
  /** Address of node1; the others count up in the last octet. Default 127.0.1.1. */
  firstIp?: string
}

const SSHD = '/usr/sbin/sshd'
const READY_TIMEOUT_MS = 10_000
// Real K3s paths each node gets its own copy of, through a bind mount inside the node's mount namespace. And root's
// home: a node's root logs in to a home of its own, not to this machine's, whose shell start-up (a developer's
// ~/.bashrc: pyenv, cargo) would run on every command sent to the node and serialise them on its locks.
const NODE_MOUNTS = [
  { sub: 'etc-rancher', at: '/etc/rancher' },
  { sub: 'var-lib-rancher', at: '/var/lib/rancher' },
  { sub: 'root-home', at: '/root' },
] as const

type NodeFiles = { dir: string; config: string; hostKey: string; authorizedKeys: string; log: string; launchPid: string }

function nodeFiles(stateDir: string, name: string): NodeFiles {
  const dir = join(resolve(stateDir), 'nodes', name)
  return {
    dir,
    config: join(dir, 'sshd_config'),
    hostKey: join(dir, 'ssh_host_ed25519_key'),
    authorizedKeys: join(dir, 'authorized_keys'),
    log: join(dir, 'sshd.log'),
    launchPid: join(dir, 'sshd.launch.pid'),
  }
}

/** Pure. `127.0.1.1` + 2 → `127.0.1.3`; stays inside 127.0.0.0/8, where every address is loopback. */
export function nodeAddress(firstIp: string, index: number): string {
  const octets = firstIp.split('.').map(Number)
  const last = (octets[3] ?? Number.NaN) + index
  if (octets.length !== 4 || octets[0] !== 127 || !Number.isInteger(last) || last > 254) {
    throw new LabStateError(`ssh nodes: ${firstIp} + ${index} is not a loopback address in 127.0.0.0/8`, { hint: 'use a firstIp like 127.0.1.1' })
  }
  return [...octets.slice(0, 3), last].join('.')
}

/** Pure. The node's sshd_config: only this node's address, key, pid file and authorized keys. */
export function sshdConfig(files: NodeFiles, host: string): string {
  return [
    `ListenAddress ${host}:${LAB_SSH_PORT}`,
    `PidFile ${files.dir}/sshd.pid`,
    `HostKey ${files.hostKey}`,
    'PermitRootLogin prohibit-password',
    'PasswordAuthentication no',
    'KbdInteractiveAuthentication no',
    'UsePAM no',
    // The state folder may sit under a world-writable /tmp, which StrictModes would reject.
    'StrictModes no',
    // sshd reads AuthorizedKeysFile as the logging-in user, who may not traverse a 0700 state folder; a command
    // run as root reads the node's per-user key file wherever the state folder lives.
    'AuthorizedKeysFile none',
    `AuthorizedKeysCommand /usr/bin/cat ${files.authorizedKeys}/%u`,
    'AuthorizedKeysCommandUser root',
    'Subsystem sftp internal-sftp',
    'LogLevel INFO',
    '',
  ].join('\n')
}

function pidCmdline(pid: number): string[] | undefined {
  try {
    return readFileSync(`/proc/${pid}/cmdline`, 'utf8').split('\0').filter(Boolean)
  } catch (error) {
    if ((error as NodeJS.ErrnoException).code === 'ENOENT') return undefined
    throw error
  }
}

/** The pid we launched for this node, if it still is this node's sshd (a recycled pid is someone else's). */
function liveNodePid(files: NodeFiles): number | undefined {
  if (!existsSync(files.launchPid)) return undefined
  const pid = Number.parseInt(readFileSync(files.launchPid, 'utf8'), 10)
  return Number.isInteger(pid) && pid > 0 && isNodeSshd(files, pid) ? pid : undefined
}

/*
 * `unshare` execs sh, sh execs sshd: the pid we get is sshd's own, so stopping it needs no process-group games.
 * The mounts exist only inside the new namespace and vanish with its last process.
 */
function launchNode(files: NodeFiles): number {
  // Paths travel as positional parameters ("$1"…), so no quoting of them is ever needed.
  const paths = NODE_MOUNTS.map(({ sub }) => join(files.dir, sub))
  const mounts = NODE_MOUNTS.map(({ at }, i) => `mount --bind "$${i + 1}" ${at}`)
  const n = paths.length
  const script = [...mounts, `exec ${SSHD} -D -f "$${n + 1}" -E "$${n + 2}"`].join(' && ')
  const out = openSync(files.log, 'a', 0o600)
  try {
    const child = spawn('unshare', ['-m', '--propagation', 'private', 'sh', '-c', script, 'sh', ...paths, files.config, files.log], { detached: true, stdio: ['ignore', out, out] })
    if (child.pid === undefined) throw new LabStateError('ssh nodes: could not start unshare', { hint: 'is util-linux installed?' })
    child.unref()
    writeFileSync(files.launchPid, `${child.pid}\n`, { mode: 0o600 })
    return child.pid
  } finally {
    closeSync(out)
  }
}

function sshBanner(host: string): Promise<boolean> {
  return new Promise((resolvePromise) => {
    const socket = connect({ host, port: LAB_SSH_PORT })
    socket.setTimeout(1_000)
    socket.once('data', (chunk: Buffer) => {
      socket.destroy()
      resolvePromise(chunk.toString().startsWith('SSH-2.0-'))
    })
    socket.once('error', () => resolvePromise(false))
    socket.once('timeout', () => {
      socket.destroy()
      resolvePromise(false)
    })
  })
}

function portOpen(host: string, port: number): Promise<boolean> {
  return new Promise((resolvePromise) => {
    const socket = connect({ host, port })
    socket.once('connect', () => {
      socket.destroy()
      resolvePromise(true)
    })
    socket.once('error', () => resolvePromise(false))
  })
}

function processGone(pid: number): boolean {
  try {
    return /\) Z /.test(readFileSync(`/proc/${pid}/stat`, 'utf8'))
  } catch (error) {
    if ((error as NodeJS.ErrnoException).code === 'ENOENT') return true
    throw error
  }
}

/** Ready means sshd replaced the launcher and speaks SSH on host:LAB_SSH_PORT; a dead sshd fails fast with its log. */
async function waitForNode(files: NodeFiles, host: string, pid: number): Promise<void> {
  const deadline = Date.now() + READY_TIMEOUT_MS
  for (;;) {
    if (processGone(pid)) {
      throw new LabStateError(`ssh nodes: sshd for ${host} exited at start:\n${logTail(files.log)}`, {
        host,
        path: files.log,
        hint: `"Address already in use" means something holds ${host}:${LAB_SSH_PORT}: a lab left running (pnpm lab down), or another program (\`ss -ltnp 'sport = :${LAB_SSH_PORT}'\` names it)`,
      })
    }
    if (isNodeSshd(files, pid) && (await sshBanner(host))) return
    if (Date.now() > deadline) throw new LabStateError(`ssh nodes: ${host}:${LAB_SSH_PORT} did not answer within ${READY_TIMEOUT_MS} ms`, { host, path: files.log })
    await sleep(50)
  }
}

type SharedKeys = { clientPublicKey: string; sudoUser: LabSudoUser }

/** Folders, host key, config and authorized keys of one node; returns the host key line for known_hosts. */
async function prepareNode(files: NodeFiles, host: string, keys: SharedKeys): Promise<string> {
  for (const { sub, at } of NODE_MOUNTS) mkdirSync(join(files.dir, sub), { recursive: true, mode: at === '/root' ? 0o700 : 0o755 })
  mkdirSync(files.authorizedKeys, { recursive: true })
  const hostKey = await ensureEd25519Key(files.hostKey, `homelab-lab ${host}`)
  writeFileSync(files.config, sshdConfig(files, host), { mode: 0o600 })
  for (const user of ['root', keys.sudoUser.name]) writeFileSync(join(files.authorizedKeys, user), `${keys.clientPublicKey}\n`, { mode: 0o644 })
  return `[${host}]:${LAB_SSH_PORT} ${publicKeyFields(hostKey)}`
}

/**
 * Starts `count` sshd nodes on 127.0.1.N:LAB_SSH_PORT, each in its own mount namespace with its own /etc/rancher and
 * /var/lib/rancher. Idempotent: a node whose sshd still runs is reused, keys are kept.
 */
export async function startSshNodes(options: StartSshNodesOptions): Promise<SshNodes> {
  await ensureDebianPackages(['openssh-server', 'openssh-client', 'sudo', 'util-linux'])
  const sshDir = join(resolve(options.stateDir), 'ssh')
  mkdirSync(resolve(options.stateDir), { recursive: true })
  mkdirSync(sshDir, { recursive: true, mode: 0o700 })
  // Empty mount points on the host: the bind mounts need them, and the host's own content is never touched.
  for (const dir of ['/run/sshd', ...NODE_MOUNTS.map((m) => m.at)]) mkdirSync(dir, { recursive: true })
  const clientKeyPath = join(sshDir, 'client_ed25519')
  const keys: SharedKeys = {
    clientPublicKey: publicKeyFields(await ensureEd25519Key(clientKeyPath, 'homelab-lab client')),
    sudoUser: await ensureLabSudoUser(sshDir),
  }
  const nodes: SshNode[] = []
  const knownHosts: string[] = []
  for (let i = 0; i < options.count; i++) {
    const name = `node${i + 1}`
    const host = nodeAddress(options.firstIp ?? '127.0.1.1', i)
    const files = nodeFiles(options.stateDir, name)
    knownHosts.push(await prepareNode(files, host, keys))
    let pid = liveNodePid(files)
    // A node left running by an older lab listens elsewhere (port 22 before LAB_SSH_PORT); start it afresh. Only a
    // refused connection says so: a busy sshd may be slow to greet, but its port is open.
    if (pid !== undefined && !(await portOpen(host, LAB_SSH_PORT))) {
      await stopNode(files)
      pid = undefined
    }
    if (pid === undefined) {
      pid = launchNode(files)
      await waitForNode(files, host, pid)
    }
    nodes.push({ name, host, port: LAB_SSH_PORT, dir: files.dir, etcRancher: join(files.dir, 'etc-rancher'), varLibRancher: join(files.dir, 'var-lib-rancher'), pid })
  }
  const knownHostsPath = join(sshDir, 'known_hosts')
  writeFileSync(knownHostsPath, `${knownHosts.join('\n')}\n`, { mode: 0o600 })
  return { nodes, clientKeyPath, knownHostsPath, sudoUser: keys.sudoUser, stop: async () => void (await stopSshNodes(options.stateDir)) }
}

/** sshd retitles itself (`sshd: /usr/sbin/sshd -D -f <cfg> … [listener] …`), so match the text, not argv[0]. */
function isNodeSshd(files: NodeFiles, pid: number): boolean {
  const text = pidCmdline(pid)?.join(' ') ?? ''
  return text.includes(`${SSHD} -D -f ${files.config} `) && !text.startsWith('unshare')
}

/** SIGTERM, then SIGKILL after 5 s; only a pid whose cmdline is this node's sshd is ever signalled. */
async function stopNode(files: NodeFiles): Promise<boolean> {
  const pid = liveNodePid(files)
  if (pid === undefined) {
    rmSync(files.launchPid, { force: true })
    return false
  }
  process.kill(pid, 'SIGTERM')
  for (let waited = 0; isNodeSshd(files, pid); waited += 50) {
    if (waited === 5_000) process.kill(pid, 'SIGKILL')
    await sleep(50)
  }
  rmSync(files.launchPid, { force: true })
  return true
}

/** Stops every node sshd this state folder started; returns the names of those that were running. */
export async function stopSshNodes(stateDir: string): Promise<string[]> {
  const nodesDir = join(resolve(stateDir), 'nodes')
  if (!existsSync(nodesDir)) return []
  const stopped: string[] = []
  for (const name of readdirSync(nodesDir).sort()) {
    if (await stopNode(nodeFiles(stateDir, name))) stopped.push(name)
  }
  return stopped
}
