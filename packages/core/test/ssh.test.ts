import { spawn, spawnSync } from 'node:child_process'
import { createHash, createHmac, randomBytes } from 'node:crypto'
import { existsSync, mkdtempSync, readdirSync, readFileSync, rmSync, statSync, writeFileSync } from 'node:fs'
import { createConnection, createServer, type Socket } from 'node:net'
import { tmpdir } from 'node:os'
import { join } from 'node:path'
import { setTimeout as sleep } from 'node:timers/promises'
import { suite } from 'uvu'
import * as assert from 'uvu/assert'
// core cannot depend on @homelab/lab (lab depends on core), so the test reaches the lab's public entry by path.
import { LAB_SSH_PORT, startSshNodes, type SshNodes, reportHookErrors, sampleProcessArgv } from '@homelab/lab'
import {
  checkHostKey,
  HostKeyError,
  parseKnownHosts,
  Secret,
  shellJoin,
  SshError,
  SshPool,
  type SshSession,
  type SshTarget,
} from '../src/index.js'

// Not 127.0.1.1: a running demo lab may hold the first addresses.
const FIRST_IP = '127.0.1.101'
const K3S_FILE = '/etc/rancher/k3s/registries.yaml'
const WRITE_CHILD = join(import.meta.dirname, 'fixtures', 'ssh-write-child.ts')

type Ctx = { lab: SshNodes; stateDir: string; pool: SshPool; scratch: string }

function labSuite(title: string) {
  const s = suite<Ctx>(title, {} as Ctx)
  s.before(reportHookErrors(async (ctx) => {
    ctx.stateDir = join(tmpdir(), 'homelab-ssh-test')
    ctx.lab = await startSshNodes({ stateDir: ctx.stateDir, count: 2, firstIp: FIRST_IP })
    ctx.pool = new SshPool()
    ctx.scratch = mkdtempSync(join(tmpdir(), 'homelab-ssh-scratch-'))
  }))
  s.after(async (ctx) => {
    await ctx.pool?.close()
    await ctx.lab?.stop()
    if (ctx.scratch) rmSync(ctx.scratch, { recursive: true, force: true })
  })
  return s
}

const node = (lab: SshNodes, i: number) => {
  const n = lab.nodes[i]
  if (!n) throw new Error(`lab has no node ${i}`)
  return n
}

const rootTarget = (lab: SshNodes, i: number, extra: Partial<SshTarget> = {}): SshTarget => ({
  host: node(lab, i).host,
  port: node(lab, i).port,
  user: 'root',
  privateKeyPath: lab.clientKeyPath,
  knownHostsPath: lab.knownHostsPath,
  ...extra,
})

const sudoTarget = (lab: SshNodes, i: number, password: Secret | undefined): SshTarget =>
  rootTarget(lab, i, { user: lab.sudoUser.name, sudo: true, ...(password ? { sudoPassword: password } : {}) })

/** The node's host key fingerprint as OpenSSH's own tool prints it. */
const sshKeygenFingerprint = (lab: SshNodes, i: number) =>
  spawnSync('ssh-keygen', ['-lf', join(node(lab, i).dir, 'ssh_host_ed25519_key.pub')]).stdout.toString().split(' ')[1] ?? 'none'

async function expectError<E extends Error>(run: () => Promise<unknown>, type: new (...args: never[]) => E): Promise<E> {
  try {
    await run()
  } catch (error) {
    assert.instance(error, type)
    return error as E
  }
  assert.unreachable(`expected ${type.name}`)
  throw new Error('unreachable')
}

// ---------------------------------------------------------------------------------------------------------------
const Parse = suite('known_hosts parsing')

const KEY_A = Buffer.concat([Buffer.from([0, 0, 0, 11]), Buffer.from('ssh-ed25519'), Buffer.from([0, 0, 0, 4]), Buffer.from('AAAA')])
const KEY_B = Buffer.concat([Buffer.from([0, 0, 0, 11]), Buffer.from('ssh-ed25519'), Buffer.from([0, 0, 0, 4]), Buffer.from('BBBB')])
const a64 = KEY_A.toString('base64')
const b64 = KEY_B.toString('base64')
const salt = randomBytes(20)
const hashed = (name: string) => `|1|${salt.toString('base64')}|${createHmac('sha1', salt).update(name).digest('base64')}`

const cases: [string, string, string, number, Buffer, string][] = [
  ['plain host matches', `10.0.0.5 ssh-ed25519 ${a64}`, '10.0.0.5', 22, KEY_A, 'known'],
  ['a host not listed is unknown', `10.0.0.5 ssh-ed25519 ${a64}`, '10.0.0.6', 22, KEY_A, 'unknown'],
  ['another key for the host is changed', `# c\n10.0.0.5 ssh-ed25519 ${a64}`, '10.0.0.5', 22, KEY_B, 'changed@2'],
  ['[host]:port only matches that port', `[10.0.0.5]:2222 ssh-ed25519 ${a64}`, '10.0.0.5', 22, KEY_A, 'unknown'],
  ['[host]:port matches on its port', `[10.0.0.5]:2222 ssh-ed25519 ${a64}`, '10.0.0.5', 2222, KEY_A, 'known'],
  ['hashed entry matches its host', `${hashed('node1.lan')} ssh-ed25519 ${a64}`, 'node1.lan', 22, KEY_A, 'known'],
  ['hashed entry does not match another host', `${hashed('node1.lan')} ssh-ed25519 ${a64}`, 'node2.lan', 22, KEY_A, 'unknown'],
  ['hashed [host]:port entry', `${hashed('[node1.lan]:2200')} ssh-ed25519 ${a64}`, 'node1.lan', 2200, KEY_A, 'known'],
  ['comma list and glob', `a.lan,10.0.0.* ssh-ed25519 ${a64}`, '10.0.0.9', 22, KEY_A, 'known'],
  ['negated pattern vetoes the line', `10.0.0.*,!10.0.0.9 ssh-ed25519 ${a64}`, '10.0.0.9', 22, KEY_A, 'unknown'],
  ['@revoked key is refused even if also listed', `10.0.0.5 ssh-ed25519 ${a64}\n@revoked * ssh-ed25519 ${a64}`, '10.0.0.5', 22, KEY_A, 'revoked@2'],
  ['@cert-authority lines are not host keys', `@cert-authority 10.0.0.5 ssh-ed25519 ${b64}`, '10.0.0.5', 22, KEY_A, 'unknown'],
  ['malformed lines are skipped', `garbage\n10.0.0.5 ssh-ed25519 ${a64}`, '10.0.0.5', 22, KEY_A, 'known'],
]

for (const [name, text, host, port, key, want] of cases) {
  Parse(name, () => {
    const verdict = checkHostKey(parseKnownHosts(text), host, port, key)
    const got = verdict.kind === 'changed' || verdict.kind === 'revoked' ? `${verdict.kind}@${verdict.line}` : verdict.kind
    assert.is(got, want)
  })
}

Parse('shellJoin keeps every argument literal for the remote shell', () => {
  assert.is(shellJoin(['printf', '%s\n', "it's $(id) `x` *"]), `printf '%s\n' 'it'\\''s $(id) \`x\` *'`)
})

// ---------------------------------------------------------------------------------------------------------------
const HostKeys = labSuite('host key verification against real sshd')

HostKeys('an unknown host key is refused, naming the host and its SHA256 fingerprint', async ({ lab, scratch }) => {
  const knownHostsPath = join(scratch, 'empty_known_hosts')
  writeFileSync(knownHostsPath, '')
  const error = await expectError(() => new SshPool().session(rootTarget(lab, 0, { knownHostsPath })), HostKeyError)
  assert.match(error.message, node(lab, 0).host)
  assert.ok(error.message.includes(sshKeygenFingerprint(lab, 0)), error.message)
  assert.ok(error.message.includes(`ssh-keyscan -p ${LAB_SSH_PORT} 127.0.1.101 >>`), error.message)
  assert.match(error.message, /--accept-new-host-keys/)
  assert.is(readFileSync(knownHostsPath, 'utf8'), '')
})

HostKeys('with acceptNewHostKeys the key is appended and later strict connects succeed', async ({ lab, scratch }) => {
  const knownHostsPath = join(scratch, 'accept_known_hosts')
  writeFileSync(knownHostsPath, '# mine\n')
  const pool = new SshPool()
  const session = await pool.session(rootTarget(lab, 0, { knownHostsPath, acceptNewHostKeys: true }))
  assert.is((await session.exec(['true'])).code, 0)
  await pool.close()
  const hostKey = readFileSync(join(node(lab, 0).dir, 'ssh_host_ed25519_key.pub'), 'utf8').split(' ').slice(0, 2).join(' ')
  assert.is(readFileSync(knownHostsPath, 'utf8'), `# mine\n[${node(lab, 0).host}]:${LAB_SSH_PORT} ${hostKey}\n`)
  const strict = new SshPool()
  assert.is((await (await strict.session(rootTarget(lab, 0, { knownHostsPath }))).exec(['true'])).code, 0)
  await strict.close()
})

HostKeys('a changed host key is refused with the host, the known_hosts line and ssh-keygen -R', async ({ lab, scratch }) => {
  const knownHostsPath = join(scratch, 'changed_known_hosts')
  const node2Key = readFileSync(join(node(lab, 1).dir, 'ssh_host_ed25519_key.pub'), 'utf8').split(' ').slice(0, 2).join(' ')
  writeFileSync(knownHostsPath, `# first line\n[${node(lab, 0).host}]:${LAB_SSH_PORT} ${node2Key}\n`)
  const target = rootTarget(lab, 0, { knownHostsPath, acceptNewHostKeys: true })
  const error = await expectError(() => new SshPool().session(target), HostKeyError)
  assert.is(error.knownHostsLine, 2)
  assert.ok(error.message.startsWith(`[${node(lab, 0).host}]:${LAB_SSH_PORT}: host key`), error.message)
  assert.match(error.message, `${knownHostsPath} line 2`)
  assert.ok(error.message.includes(`ssh-keygen -R '[${node(lab, 0).host}]:${LAB_SSH_PORT}' -f`), error.message)
})

HostKeys('a known_hosts hashed by ssh-keygen -H is accepted', async ({ lab, scratch }) => {
  const knownHostsPath = join(scratch, 'hashed_known_hosts')
  writeFileSync(knownHostsPath, readFileSync(lab.knownHostsPath))
  spawnSync('ssh-keygen', ['-H', '-f', knownHostsPath])
  assert.not.match(readFileSync(knownHostsPath, 'utf8'), node(lab, 0).host)
  const pool = new SshPool()
  assert.is((await (await pool.session(rootTarget(lab, 1, { knownHostsPath }))).exec(['true'])).code, 0)
  await pool.close()
})

HostKeys('a key the node does not accept fails auth naming the key file and the config keys to check', async ({ lab, scratch }) => {
  const otherKey = join(scratch, 'other_key')
  spawnSync('ssh-keygen', ['-q', '-t', 'ed25519', '-N', '', '-f', otherKey])
  const error = await expectError(() => new SshPool().session(rootTarget(lab, 0, { privateKeyPath: otherKey, configKey: 'nodes[0]' })), SshError)
  assert.match(error.message, /authentication failed/)
  assert.match(error.message, `key ${otherKey}`)
  assert.match(error.message, /nodes\[0\]\.user and nodes\[0\]\.keyFile/)
})

HostKeys('a port nobody listens on fails as connection refused', async ({ lab }) => {
  const error = await expectError(() => new SshPool().session(rootTarget(lab, 0, { port: 2 })), SshError)
  assert.match(error.message, /root@127\.0\.1\.101:2: connection refused/)
  assert.is(error.host, node(lab, 0).host)
})

// ---------------------------------------------------------------------------------------------------------------
const Pool = labSuite('connection pool')

const acceptedLogins = (lab: SshNodes, i: number, user: string) =>
  readFileSync(join(node(lab, i).dir, 'sshd.log'), 'utf8').split('\n').filter((l) => l.startsWith(`Accepted publickey for ${user} `)).length

Pool('many exec and readFile calls on one node share one SSH connection', async ({ lab, pool }) => {
  const before = acceptedLogins(lab, 0, 'root')
  const sessions = await Promise.all([0, 1, 2].map(() => pool.session(rootTarget(lab, 0))))
  for (let i = 0; i < 10; i++) {
    const session = await pool.session(rootTarget(lab, 0))
    assert.is((await session.exec(['echo', String(i)])).stdout, `${i}\n`)
    await session.readFile('/etc/hostname')
  }
  assert.ok(sessions.every((s) => s === sessions[0]))
  assert.is(pool.connectionsOpened, 1)
  assert.is(acceptedLogins(lab, 0, 'root') - before, 1)
})

Pool('each node gets its own connection, and close() lets the next call reconnect', async ({ lab }) => {
  const pool = new SshPool()
  const [one, two] = await Promise.all([pool.session(rootTarget(lab, 0)), pool.session(rootTarget(lab, 1))])
  assert.is.not(one, two)
  assert.is(pool.connectionsOpened, 2)
  await pool.close()
  await sleep(50)
  assert.ok(one.closed)
  assert.is((await (await pool.session(rootTarget(lab, 0))).exec(['true'])).code, 0)
  assert.is(pool.connectionsOpened, 3)
  await pool.close()
})

Pool('several calls that find the connection dropped share one reconnect', async ({ lab }) => {
  const pool = new SshPool()
  const first = await pool.session(rootTarget(lab, 0))
  first.close()
  for (let i = 0; i < 100 && !first.closed; i++) await sleep(10)
  assert.ok(first.closed)
  const again = await Promise.all([0, 1, 2].map(() => pool.session(rootTarget(lab, 0))))
  assert.ok(again.every((s) => s === again[0] && s !== first))
  assert.is(pool.connectionsOpened, 2)
  await pool.close()
})

Pool('exec passes awkward arguments and stdin through unchanged and reports the exit code', async ({ lab, pool }) => {
  const session = await pool.session(rootTarget(lab, 0))
  const awkward = ["it's", '$(touch /tmp/pwned)', '`id`', 'a b', '*', '']
  const printed = await session.exec(['printf', '[%s]', ...awkward])
  assert.is(printed.stdout, awkward.map((a) => `[${a}]`).join(''))
  assert.is((await session.exec(['cat'], { stdin: 'from stdin\n' })).stdout, 'from stdin\n')
  assert.is((await session.exec(['sh', '-c', 'exit 7'])).code, 7)
})

type Relay = { port: number; silence: () => void; close: () => void }

/** A TCP relay to a node's sshd that can go silent, as a node does that loses power or its network mid-command. */
async function startRelay(host: string): Promise<Relay> {
  const sockets: [Socket, Socket][] = []
  const server = createServer((client) => {
    const upstream = createConnection(LAB_SSH_PORT, host)
    client.pipe(upstream).on('error', () => undefined)
    upstream.pipe(client).on('error', () => undefined)
    sockets.push([client, upstream])
  })
  await new Promise<void>((resolve) => server.listen(0, '127.0.0.1', resolve))
  return {
    port: (server.address() as { port: number }).port,
    silence: () => {
      for (const [client, upstream] of sockets) {
        client.unpipe(upstream)
        upstream.unpipe(client)
        client.pause()
        upstream.pause()
      }
    },
    close: () => {
      for (const pair of sockets) for (const socket of pair) socket.destroy()
      server.close()
    },
  }
}

Pool('a node that goes silent mid-command is given up on after the missed keepalives, not waited on forever', async ({ lab, scratch }) => {
  const relay = await startRelay(node(lab, 0).host)
  const pool = new SshPool()
  try {
    const target = { ...rootTarget(lab, 0), host: '127.0.0.1', port: relay.port, knownHostsPath: join(scratch, 'relay_known_hosts'), acceptNewHostKeys: true, keepaliveIntervalMs: 200 }
    const session = await pool.session(target)
    const running = session.exec(['sleep', '30'])
    await sleep(300)
    relay.silence()
    const outcome = await Promise.race([running.then(() => 'finished', (error: unknown) => error), sleep(8000).then(() => 'still waiting after 8 s')])
    assert.instance(outcome, SshError)
    assert.match((outcome as SshError).message, /connection lost while running sleep/)
    assert.match((outcome as SshError).message, /keepalives unanswered/)
  } finally {
    relay.close()
    await pool.close()
  }
})

// ---------------------------------------------------------------------------------------------------------------
const Write = labSuite('atomic file writes over SFTP as root')

const listK3sDir = (lab: SshNodes, i: number) => {
  const dir = join(node(lab, i).etcRancher, 'k3s')
  return existsSync(dir) ? readdirSync(dir).sort() : []
}

Write.before.each(({ lab }) => {
  for (const n of lab.nodes) rmSync(join(n.etcRancher, 'k3s'), { recursive: true, force: true })
})

Write('registries.yaml written on node1 lands in node1 only, with its content and mode 0600', async ({ lab, pool }) => {
  const hostFileBefore = existsSync(K3S_FILE)
  const session = await pool.session(rootTarget(lab, 0))
  await session.writeFileAtomic(K3S_FILE, 'mirrors: {}\n', { mode: 0o600 })
  const local = join(node(lab, 0).etcRancher, 'k3s', 'registries.yaml')
  assert.is(readFileSync(local, 'utf8'), 'mirrors: {}\n')
  assert.is(statSync(local).mode & 0o777, 0o600)
  assert.equal(listK3sDir(lab, 1), [])
  assert.is(existsSync(K3S_FILE), hostFileBefore)
  assert.is((await session.readFile(K3S_FILE))?.toString(), 'mirrors: {}\n')
  assert.is(await session.readFile('/etc/rancher/k3s/missing.yaml'), undefined)
})

Write('backups keep the previous versions, only the newest N', async ({ lab, pool }) => {
  const session = await pool.session(rootTarget(lab, 0))
  for (const version of ['v1', 'v2', 'v3', 'v4', 'v5']) await session.writeFileAtomic(K3S_FILE, version, { backup: { keep: 2 } })
  const names = listK3sDir(lab, 0)
  const backups = names.filter((n) => n.startsWith('registries.yaml.bak-'))
  assert.is(backups.length, 2)
  const dir = join(node(lab, 0).etcRancher, 'k3s')
  assert.equal(backups.map((b) => readFileSync(join(dir, b), 'utf8')), ['v3', 'v4'])
  assert.is(readFileSync(join(dir, 'registries.yaml'), 'utf8'), 'v5')
  assert.equal(names.filter((n) => n.includes('homelab-tmp')), [])
})

const OPERATOR_BACKUP = 'registries.yaml.bak-1-before-k3s-upgrade'
const ownBackups = (names: string[]) => names.filter((n) => /^registries\.yaml\.bak-\d{8}T\d{6}\.\d{3}Z$/.test(n))

/** Five writes keeping 2, then one with backups off: the operator's own backup and our newest two must survive. */
async function writeWithBackups(session: SshSession, dir: string, listDir: () => string[]): Promise<void> {
  writeFileSync(join(dir, OPERATOR_BACKUP), 'kept by the operator\n')
  for (const version of ['v1', 'v2', 'v3', 'v4', 'v5']) await session.writeFileAtomic(K3S_FILE, version, { backup: { keep: 2 } })
  assert.ok(listDir().includes(OPERATOR_BACKUP), 'an operator\'s backup was pruned with keep 2')
  assert.equal(ownBackups(listDir()).map((b) => readFileSync(join(dir, b), 'utf8')), ['v3', 'v4'])
  await session.writeFileAtomic(K3S_FILE, 'v6', { backup: { keep: 0 } })
  assert.ok(listDir().includes(OPERATOR_BACKUP), 'an operator\'s backup was pruned with keep 0')
  assert.equal(ownBackups(listDir()).map((b) => readFileSync(join(dir, b), 'utf8')), ['v3', 'v4'], 'keep 0 made a backup or pruned ours')
}

Write('only backups in our own timestamp form are pruned, over SFTP; keep 0 makes none and prunes none', async ({ lab, pool }) => {
  const dir = join(node(lab, 0).etcRancher, 'k3s')
  const session = await pool.session(rootTarget(lab, 0))
  await session.writeFileAtomic(K3S_FILE, 'v0')
  await writeWithBackups(session, dir, () => listK3sDir(lab, 0))
})

type KillResult = { tempSeen: number; childOutput: string }

/** Starts the child writer and SIGKILLs it once a temp file of at least `killAt` bytes shows up in the node dir. */
async function killMidTransfer(dir: string, job: object, killAt: number): Promise<KillResult> {
  const child = spawn(process.execPath, ['--import', 'tsx', WRITE_CHILD], { stdio: ['pipe', 'pipe', 'pipe'] })
  let childOutput = ''
  child.stdout.on('data', (d: Buffer) => (childOutput += d.toString()))
  child.stderr.on('data', (d: Buffer) => (childOutput += d.toString()))
  child.stdin.end(JSON.stringify(job))
  const deadline = Date.now() + 20_000
  let tempSeen = 0
  while (Date.now() < deadline && child.exitCode === null) {
    const temp = existsSync(dir) ? readdirSync(dir).find((n) => n.includes('homelab-tmp')) : undefined
    const size = temp === undefined ? 0 : (statSync(join(dir, temp), { throwIfNoEntry: false })?.size ?? 0)
    if (size >= killAt) {
      tempSeen = size
      child.kill('SIGKILL')
      break
    }
    await sleep(2)
  }
  await new Promise((resolve) => (child.exitCode !== null || child.signalCode !== null ? resolve(null) : child.once('exit', resolve)))
  return { tempSeen, childOutput }
}

const BIG = 50 * 1024 * 1024

Write('a writer killed mid-transfer leaves the old file intact; the next write removes its temp file', async ({ lab, pool }) => {
  const session = await pool.session(rootTarget(lab, 0))
  await session.writeFileAtomic(K3S_FILE, 'old content\n')
  const dir = join(node(lab, 0).etcRancher, 'k3s')
  const killed = await killMidTransfer(dir, { target: rootTarget(lab, 0), path: K3S_FILE, size: BIG, fill: 'x' }, 2 * 1024 * 1024)
  assert.ok(killed.tempSeen > 0 && killed.tempSeen < BIG, `temp file seen at ${killed.tempSeen} bytes; child said: ${killed.childOutput}`)
  assert.not.match(killed.childOutput, /written/)
  assert.is(readFileSync(join(dir, 'registries.yaml'), 'utf8'), 'old content\n')
  assert.is(listK3sDir(lab, 0).filter((n) => n.includes('homelab-tmp')).length, 1, 'SFTP cannot clean up after a dead client: one stray temp')
  await session.writeFileAtomic(K3S_FILE, 'new content\n')
  assert.equal(listK3sDir(lab, 0), ['registries.yaml'])
  assert.is(readFileSync(join(dir, 'registries.yaml'), 'utf8'), 'new content\n')
})

// ---------------------------------------------------------------------------------------------------------------
const Sudo = labSuite('sudo as a non-root user')

Sudo('writeFileAtomic and readFile of root-owned files work with the sudo password, which never shows in any argv', async ({ lab, pool }) => {
  const password = new Secret(lab.sudoUser.password.reveal())
  const session: SshSession = await pool.session(sudoTarget(lab, 1, password))
  const sampler = sampleProcessArgv()
  const payload = Buffer.alloc(5 * 1024 * 1024, 'k')
  for (let i = 0; i < 3; i++) await session.writeFileAtomic('/var/lib/rancher/k3s/secret.bin', payload, { mode: 0o600, backup: { keep: 1 } })
  await session.writeFileAtomic(K3S_FILE, 'configs: {}\n')
  const read = await session.readFile(K3S_FILE)
  const missing = await session.readFile('/etc/rancher/k3s/nope')
  const { samples, seen } = sampler.stop()
  const local = join(node(lab, 1).etcRancher, 'k3s', 'registries.yaml')
  assert.is(read?.toString(), 'configs: {}\n')
  assert.is(missing, undefined)
  assert.is(statSync(local).uid, 0)
  assert.is(statSync(local).mode & 0o777, 0o600)
  assert.ok(readFileSync(join(node(lab, 1).varLibRancher, 'k3s', 'secret.bin')).equals(payload))
  assert.ok(samples > 20, `only ${samples} samples`)
  assert.ok([...seen].some((c) => c.startsWith('sudo -k -S')), 'the sampler saw the sudo processes')
  assert.not.ok([...seen].some((c) => c.includes(password.reveal())), 'the sudo password appeared in a command line')
  assert.not.ok(readFileSync(join(node(lab, 1).dir, 'sshd.log'), 'utf8').includes(password.reveal()))
  // A checksum of a file whose other bytes can be guessed gives away what is secret in it (a registries.yaml password).
  for (const written of [payload, Buffer.from('configs: {}\n')]) {
    const sum = createHash('sha256').update(written).digest('hex')
    assert.not.ok([...seen].some((c) => c.includes(sum)), 'a checksum of the written file appeared in a command line')
  }
})

Sudo('a wrong sudo password is reported as rejected and never echoed', async ({ lab }) => {
  const wrong = new Secret(`wrong-${randomBytes(6).toString('hex')}`)
  const pool = new SshPool()
  const session = await pool.session(sudoTarget(lab, 1, wrong))
  const error = await expectError(() => session.writeFileAtomic(K3S_FILE, 'x'), SshError)
  await pool.close()
  assert.match(error.message, /the sudo password was rejected/)
  assert.match(error.message, /sudoPassword/)
  assert.not.match(error.message, wrong.reveal())
  assert.is(error.host, node(lab, 1).host)
})

Sudo('a user whose sudo needs a password but has none configured gets told to set one', async ({ lab }) => {
  const pool = new SshPool()
  const session = await pool.session(sudoTarget(lab, 1, undefined))
  const error = await expectError(() => session.readFile(K3S_FILE), SshError)
  await pool.close()
  assert.match(error.message, /sudo needs a password and none is configured/)
})

Sudo('only backups in our own timestamp form are pruned, through sudo; keep 0 makes none and prunes none', async ({ lab, pool }) => {
  const dir = join(node(lab, 1).etcRancher, 'k3s')
  rmSync(dir, { recursive: true, force: true })
  const session = await pool.session(sudoTarget(lab, 1, new Secret(lab.sudoUser.password.reveal())))
  await session.writeFileAtomic(K3S_FILE, 'v0')
  try {
    await writeWithBackups(session, dir, () => readdirSync(dir).sort())
  } finally {
    // This suite does not clear the folder between tests: the next one counts what is in it.
    rmSync(dir, { recursive: true, force: true })
  }
})

Sudo('a sudo writer killed mid-transfer leaves the old file and no temp file behind', async ({ lab, pool }) => {
  const session = await pool.session(sudoTarget(lab, 1, new Secret(lab.sudoUser.password.reveal())))
  await session.writeFileAtomic(K3S_FILE, 'old sudo content\n')
  const dir = join(node(lab, 1).etcRancher, 'k3s')
  const target = { ...sudoTarget(lab, 1, undefined), sudoPassword: lab.sudoUser.password.reveal() }
  const killed = await killMidTransfer(dir, { target, path: K3S_FILE, size: BIG, fill: 'y' }, 2 * 1024 * 1024)
  assert.ok(killed.tempSeen > 0 && killed.tempSeen < BIG, `temp file seen at ${killed.tempSeen} bytes; child said: ${killed.childOutput}`)
  // The remote script sees stdin end early, refuses the short file and removes its temp file itself.
  for (let i = 0; i < 100 && readdirSync(dir).some((n) => n.includes('homelab-tmp')); i++) await sleep(50)
  assert.equal(readdirSync(dir).filter((n) => n.startsWith('registries.yaml') || n.includes('homelab-tmp')).sort(), ['registries.yaml'])
  assert.is(readFileSync(join(dir, 'registries.yaml'), 'utf8'), 'old sudo content\n')
})

Parse.run()
HostKeys.run()
Pool.run()
Write.run()
Sudo.run()
