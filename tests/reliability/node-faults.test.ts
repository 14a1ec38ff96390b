// Faults of the K3s nodes, on the lab's nodes (real sshd + containerd in their own mount namespaces, systemctl shim):
// the broken node fails alone and by name, its registries.yaml is never half-written or clobbered, the other nodes
// converge and keep what others put in their files, and the next run finishes (changed, then changed=0).
import { spawn, spawnSync } from 'node:child_process'
import { existsSync, mkdirSync, mkdtempSync, readdirSync, readFileSync, rmSync, statSync, writeFileSync } from 'node:fs'
import { tmpdir } from 'node:os'
import { join } from 'node:path'
import { setTimeout as sleep } from 'node:timers/promises'
import { createKubeClient, knownHostName } from '@homelab/core'
import { inNodeNamespace, type LabNode, labNodeRestarts, type LabNodes, repoRoot, reportHookErrors, setLabNodeFault, startLabNodes } from '@homelab/lab'
import { nodeTrust } from '@homelab/node-trust'
import { suite } from 'uvu'
import * as assert from 'uvu/assert'
import { deleteNamespace, uniqueName, useLabKube, type LabKube } from './support/lab-kube.js'
import { KNOWN_SECRETS, LeakScan } from './support/leak-scan.js'
import { reliabilityCase } from './support/reliability-tally.js'
import { changedSteps, hasStackTrace, runComponents, writeConfigFile, type ToolRun } from './support/tool-run.js'

type Ctx = { lab: LabKube; nodes: LabNodes; namespace: string; scan: LeakScan; caPem: string; stateDir: string }
const Nodes = suite<Ctx>('node faults: the node fails alone by name, no file half-written, the next run converges', {} as Ctx)

const FIRST_IP = '127.0.1.160'
const FOREIGN_YAML = '# ops: our pull-through cache for quay\nmirrors:\n  quay.io:\n    endpoint:\n      - https://quay-cache.lan\n'
const SYNC_TASK = () => join(repoRoot(), 'packages/node-trust/tasks/sync.ts')

type NodeEntry = Record<string, unknown> & { host: string }
const k3sDir = (node: LabNode) => join(node.etcRancher, 'k3s')
const yamlPath = (node: LabNode) => join(k3sDir(node), 'registries.yaml')
const nodeAt = (ctx: Ctx, i: number) => ctx.nodes.nodes[i]!
const entry = (ctx: Ctx, i: number, extra: Record<string, unknown> = {}): NodeEntry => ({ host: nodeAt(ctx, i).host, port: nodeAt(ctx, i).port, user: 'root', keyFile: ctx.nodes.clientKeyPath, role: 'server', ...extra })

function configWith(ctx: Ctx, nodes: NodeEntry[], extra: Record<string, unknown> = {}): string {
  return writeConfigFile({
    domain: 'homelab.local',
    ingress: { ip: '127.0.2.1' },
    kubernetes: { kubeconfig: ctx.lab.kubeconfigPath, namespace: ctx.namespace },
    registry: { namespace: ctx.namespace, users: [{ name: 'admin', password: KNOWN_SECRETS.registryPassword }] },
    tls: { ca: { namespace: ctx.namespace, secretName: 'root-ca' } },
    dns: { piholes: [] },
    nodes,
    nodeTrust: { knownHostsFile: ctx.nodes.knownHostsPath, backups: 2 },
    timeouts: { nodeReady: '6s', ssh: '3s' },
    ...extra,
  })
}

const sync = (ctx: Ctx, configPath: string, args: string[] = []) => runComponents([nodeTrust], 'bootstrap', { configPath, args, scan: ctx.scan })

/** A node as someone else left it: their mirror and comment in registries.yaml, their own config.yaml beside it. */
function seedForeign(node: LabNode): void {
  rmSync(k3sDir(node), { recursive: true, force: true })
  mkdirSync(k3sDir(node), { recursive: true })
  writeFileSync(yamlPath(node), FOREIGN_YAML, { mode: 0o600 })
  writeFileSync(join(k3sDir(node), 'config.yaml'), 'write-kubeconfig-mode: "0644"\n')
}

function assertNodeConverged(node: LabNode): void {
  const text = readFileSync(yamlPath(node), 'utf8')
  assert.match(text, /registry\.homelab\.local/)
  assert.ok(text.includes('# ops: our pull-through cache for quay') && text.includes('https://quay-cache.lan'), `the foreign mirror was lost on ${node.host}:\n${text}`)
  assert.is(readFileSync(join(k3sDir(node), 'config.yaml'), 'utf8'), 'write-kubeconfig-mode: "0644"\n')
  assert.is(statSync(yamlPath(node)).mode & 0o777, 0o600)
  assert.equal(readdirSync(k3sDir(node)).filter((n) => n.includes('tmp')), [], `a temp file was left on ${node.host}`)
}

function assertFailedAlone(run: ToolRun, node: LabNode, why: RegExp): void {
  assert.is(run.code, 1, run.output)
  assert.match(run.output, new RegExp(`failed\\s+node-trust ${node.host.replaceAll('.', '\\.')}`))
  assert.match(run.output, why)
  assert.not.ok(hasStackTrace(run.output), run.output)
}

/** Fixed, the next run changes the broken node; the run after that changes and restarts nothing. */
async function assertNextRunsConverge(ctx: Ctx, configPath: string, nodes: LabNode[]): Promise<void> {
  const next = await sync(ctx, configPath)
  assert.is(next.code, 0, next.output)
  assert.ok(changedSteps(next.output).length > 0, next.output)
  for (const node of nodes) assertNodeConverged(node)
  const restarts = nodes.map((n) => labNodeRestarts(n).length)
  const again = await sync(ctx, configPath)
  assert.is(again.code, 0, again.output)
  assert.equal(changedSteps(again.output), [], again.output)
  assert.equal(nodes.map((n) => labNodeRestarts(n).length), restarts, 'a converged run restarted K3s')
}

Nodes.before(reportHookErrors(async (ctx) => {
  ctx.lab = await useLabKube()
  ctx.scan = new LeakScan()
  ctx.namespace = uniqueName('rel-nodes')
  ctx.stateDir = join(tmpdir(), 'homelab-reliability-nodes')
  mkdirSync(ctx.stateDir, { recursive: true })
  ctx.nodes = await startLabNodes({ stateDir: ctx.stateDir, count: 5, firstIp: FIRST_IP, kubeconfigPath: ctx.lab.kubeconfigPath, servicesIp: '127.0.2.1' })
  ctx.scan.addSecret('sudoPassword', ctx.nodes.sudoUser.password.reveal())
  const dir = mkdtempSync(join(tmpdir(), 'reliability-ca-'))
  spawnSync('openssl', ['req', '-x509', '-newkey', 'ec', '-pkeyopt', 'ec_paramgen_curve:P-256', '-nodes', '-keyout', join(dir, 'ca.key'), '-out', join(dir, 'ca.crt'), '-days', '2', '-subj', '/CN=reliability root CA'], { stdio: 'ignore' })
  ctx.caPem = readFileSync(join(dir, 'ca.crt'), 'utf8')
  const kube = createKubeClient({ kubeconfigPath: ctx.lab.kubeconfigPath, fieldManager: 'reliability-registry-double' })
  await kube.apply({ apiVersion: 'v1', kind: 'Namespace', metadata: { name: ctx.namespace } }, { dryRun: false, force: true })
  const secret = (name: string, data: Record<string, string>) => ({
    apiVersion: 'v1', kind: 'Secret', type: 'Opaque', metadata: { name, namespace: ctx.namespace },
    data: Object.fromEntries(Object.entries(data).map(([k, v]) => [k, Buffer.from(v).toString('base64')])),
  })
  await kube.apply(secret('registry-credentials', { admin: KNOWN_SECRETS.registryPassword }), { dryRun: false, force: true })
  await kube.apply(secret('root-ca', { 'ca.crt': ctx.caPem }), { dryRun: false, force: true })
  ctx.scan.startArgv()
}))

Nodes.before.each(async (ctx) => {
  for (const node of ctx.nodes.nodes) {
    await setLabNodeFault(node, 'none')
    seedForeign(node)
  }
})

Nodes.after(async (ctx) => {
  ctx.scan?.stopArgv()
  await ctx.nodes?.stop()
  await deleteNamespace(ctx.lab?.kube, ctx.namespace)
})

reliabilityCase(Nodes, 'fault', 'the registry CA Secret is missing in the cluster: the trust step fails naming tls.ca.secretName and what to run; no node is touched; with it the next run finishes', async (ctx) => {
  const [a, b] = [nodeAt(ctx, 0), nodeAt(ctx, 1)]
  const run = await sync(ctx, configWith(ctx, [entry(ctx, 0), entry(ctx, 1)], { tls: { ca: { namespace: ctx.namespace, secretName: 'no-such-ca' } } }))
  assert.is(run.code, 1, run.output)
  assert.match(run.output, /no registry CA: neither Secret .*no-such-ca/)
  assert.match(run.output, /run the registry bootstrap first/)
  assert.not.ok(hasStackTrace(run.output), run.output)
  for (const node of [a, b]) assert.is(readFileSync(yamlPath(node), 'utf8'), FOREIGN_YAML)
  await assertNextRunsConverge(ctx, configWith(ctx, [entry(ctx, 0), entry(ctx, 1)]), [a, b])
})

reliabilityCase(Nodes, 'fault', 'node unreachable (nothing listens on its port): that node fails by host with connection refused, the others converge; next run finishes', async (ctx) => {
  const [a, b] = [nodeAt(ctx, 0), nodeAt(ctx, 1)]
  const run = await sync(ctx, configWith(ctx, [entry(ctx, 0), entry(ctx, 1, { port: 2222 })]))
  assertFailedAlone(run, b, /connection refused/i)
  assertNodeConverged(a)
  assert.is(readFileSync(yamlPath(b), 'utf8'), FOREIGN_YAML)
  await assertNextRunsConverge(ctx, configWith(ctx, [entry(ctx, 0), entry(ctx, 1)]), [a, b])
})

reliabilityCase(Nodes, 'fault', 'node with a changed host key: refused naming the known_hosts line and ssh-keygen -R; nothing written there; after re-trusting, the next run finishes', async (ctx) => {
  const [a, b] = [nodeAt(ctx, 0), nodeAt(ctx, 1)]
  const lines = readFileSync(ctx.nodes.knownHostsPath, 'utf8').trim().split('\n')
  const name = (n: typeof a) => knownHostName(n.host, n.port)
  const keyOf = (n: typeof a) => lines.find((l) => l.startsWith(`${name(n)} `))!.split(' ').slice(1).join(' ')
  const knownHosts = join(mkdtempSync(join(tmpdir(), 'reliability-known-hosts-')), 'known_hosts')
  writeFileSync(knownHosts, `# ops\n${name(a)} ${keyOf(a)}\n${name(b)} ${keyOf(a)}\n`, { mode: 0o600 })
  const run = await sync(ctx, configWith(ctx, [entry(ctx, 0), entry(ctx, 1)], { nodeTrust: { knownHostsFile: knownHosts } }))
  assertFailedAlone(run, b, new RegExp(`${knownHosts.replaceAll('.', '\\.')} line 3`))
  assert.ok(run.output.includes(`ssh-keygen -R '${name(b)}'`), run.output)
  assert.is(readFileSync(yamlPath(b), 'utf8'), FOREIGN_YAML)
  assertNodeConverged(a)
  writeFileSync(knownHosts, `# ops\n${name(a)} ${keyOf(a)}\n${name(b)} ${keyOf(b)}\n`, { mode: 0o600 })
  await assertNextRunsConverge(ctx, configWith(ctx, [entry(ctx, 0), entry(ctx, 1)], { nodeTrust: { knownHostsFile: knownHosts } }), [a, b])
})

reliabilityCase(Nodes, 'fault', 'node user whose sudo needs a password none was given: told to set nodes[i].sudoPassword; with it the next run finishes', async (ctx) => {
  const [a, b] = [nodeAt(ctx, 0), nodeAt(ctx, 1)]
  const user = ctx.nodes.sudoUser.name
  const run = await sync(ctx, configWith(ctx, [entry(ctx, 0), entry(ctx, 1, { user })]))
  assertFailedAlone(run, b, /sudoPassword/)
  assert.is(readFileSync(yamlPath(b), 'utf8'), FOREIGN_YAML)
  await assertNextRunsConverge(ctx, configWith(ctx, [entry(ctx, 0), entry(ctx, 1, { user, sudoPassword: ctx.nodes.sudoUser.password.reveal() })]), [a, b])
})

reliabilityCase(Nodes, 'fault', 'node with a read-only /etc/rancher: fails naming the path, old file kept, no restart; once writable the next run finishes', async (ctx) => {
  const [a, b] = [nodeAt(ctx, 0), nodeAt(ctx, 1)]
  await setLabNodeFault(b, 'read-only')
  const restarts = labNodeRestarts(b).length
  const run = await sync(ctx, configWith(ctx, [entry(ctx, 0), entry(ctx, 1)]))
  assertFailedAlone(run, b, /read-only|Read-only|EROFS|Permission denied|Failure/i)
  assert.is(await inNodeNamespace(b, ['cat', '/etc/rancher/k3s/registries.yaml']), FOREIGN_YAML)
  assert.is(labNodeRestarts(b).length, restarts)
  assertNodeConverged(a)
  await setLabNodeFault(b, 'none')
  await assertNextRunsConverge(ctx, configWith(ctx, [entry(ctx, 0), entry(ctx, 1)]), [a, b])
})

reliabilityCase(Nodes, 'fault', 'node with a full disk (/etc/rancher/k3s a full tmpfs): the write fails, the old file stays whole, no restart; with space the next run finishes', async (ctx) => {
  const [a, b] = [nodeAt(ctx, 0), nodeAt(ctx, 1)]
  await setLabNodeFault(b, 'full')
  const restarts = labNodeRestarts(b).length
  const run = await sync(ctx, configWith(ctx, [entry(ctx, 0), entry(ctx, 1)]))
  assertFailedAlone(run, b, /No space left on device|ENOSPC|Failure|full/i)
  assert.is(await inNodeNamespace(b, ['cat', '/etc/rancher/k3s/registries.yaml']), FOREIGN_YAML)
  const leftovers = await inNodeNamespace(b, ['sh', '-c', 'ls -a /etc/rancher/k3s'])
  assert.not.match(leftovers, /homelab-tmp/, `a temp file was left on the full disk:\n${leftovers}`)
  assert.is(labNodeRestarts(b).length, restarts)
  await setLabNodeFault(b, 'none')
  await assertNextRunsConverge(ctx, configWith(ctx, [entry(ctx, 0), entry(ctx, 1)]), [a, b])
})

reliabilityCase(Nodes, 'fault', 'node whose registries.yaml does not parse: left untouched, named with line and column, not restarted; fixed by hand the next run finishes', async (ctx) => {
  const [a, b] = [nodeAt(ctx, 0), nodeAt(ctx, 1)]
  const bad = `${FOREIGN_YAML}  docker.io:\n    endpoint: [https://mirror.lan\n`
  writeFileSync(yamlPath(b), bad)
  const restarts = labNodeRestarts(b).length
  const run = await sync(ctx, configWith(ctx, [entry(ctx, 0), entry(ctx, 1)]))
  assertFailedAlone(run, b, /registries\.yaml does not parse at line \d+, column \d+/)
  assert.is(readFileSync(yamlPath(b), 'utf8'), bad)
  assert.is(labNodeRestarts(b).length, restarts)
  writeFileSync(yamlPath(b), FOREIGN_YAML)
  await assertNextRunsConverge(ctx, configWith(ctx, [entry(ctx, 0), entry(ctx, 1)]), [a, b])
})

reliabilityCase(Nodes, 'fault', 'node that never becomes Ready after the restart: the rollout stops naming the node and how to restore; later nodes untouched; once Ready the next run finishes', async (ctx) => {
  const [a, b, c] = [nodeAt(ctx, 0), nodeAt(ctx, 1), nodeAt(ctx, 2)]
  await setLabNodeFault(a, 'never-ready')
  const configPath = configWith(ctx, [entry(ctx, 0), entry(ctx, 1), entry(ctx, 2)])
  const run = await runComponents([nodeTrust], 'bootstrap', { configPath, scan: ctx.scan, label: 'node-trust never-ready' })
  assert.is(run.code, 1, run.output)
  assert.match(run.output, new RegExp(`${a.host.replaceAll('.', '\\.')}.*did not come back after \`systemctl restart k3s\``))
  assert.match(run.output, /cp -p \/etc\/rancher\/k3s\/registries\.yaml\.bak-\S+ \/etc\/rancher\/k3s\/registries\.yaml/)
  const later = [b, c].map((n) => n.host.replaceAll('.', '\\.')).join('|')
  assert.match(run.output, new RegExp(`skipped\\s+node-trust (${later}): not touched: the rollout stopped at ${a.host.replaceAll('.', '\\.')}`))
  assert.ok([b, c].some((n) => readFileSync(yamlPath(n), 'utf8') === FOREIGN_YAML), 'every later node was written after the rollout stopped')
  await setLabNodeFault(a, 'none')
  // The node is Ready again only after its next restart: the operator restarts it, as the message says.
  await inNodeNamespace(a, ['systemctl', 'restart', 'k3s'])
  await assertNextRunsConverge(ctx, configPath, [a, b, c])
})

reliabilityCase(Nodes, 'fault', 'sync SIGKILLed while writing registries.yaml: the old file stays whole (never half-written); the next run finishes and removes the temp file', async (ctx) => {
  const node = nodeAt(ctx, 3)
  // Just under the 1 MiB limit, so the transfer lasts long enough to be caught in the middle.
  const old = `${FOREIGN_YAML}# ${'x'.repeat(1000 * 1024)}\n`
  writeFileSync(yamlPath(node), old, { mode: 0o600 })
  const configPath = configWith(ctx, [entry(ctx, 3)])
  const child = spawn(process.execPath, ['--import', 'tsx', SYNC_TASK(), '--config', configPath], { cwd: repoRoot(), stdio: 'ignore' })
  let tempSeen = false
  for (const deadline = Date.now() + 60_000; Date.now() < deadline && child.exitCode === null && !tempSeen; await sleep(1)) {
    if (readdirSync(k3sDir(node)).some((n) => n.includes('tmp'))) {
      tempSeen = true
      child.kill('SIGKILL')
    }
  }
  await new Promise((resolve) => (child.exitCode !== null || child.signalCode !== null ? resolve(null) : child.once('exit', resolve)))
  const now = readFileSync(yamlPath(node), 'utf8')
  assert.ok(now === old || /registry\.homelab\.local/.test(now), 'registries.yaml is neither the old file nor the new one')
  assert.ok(tempSeen, 'the sync ended before a temp file was ever seen: the kill did not land mid-write')
  // A run killed outright cannot release its lock: the next run says how to clear it; the operator does so.
  let next = await sync(ctx, configPath)
  if (next.code !== 0) {
    assert.match(next.output, new RegExp(`if it died, the lock expires at \\S+ \\(or delete ConfigMap ${ctx.namespace}/run-lock-node-trust\\)`))
    await ctx.lab.kube.delete({ apiVersion: 'v1', kind: 'ConfigMap', namespace: ctx.namespace, name: 'run-lock-node-trust' })
    next = await sync(ctx, configPath)
  }
  assert.is(next.code, 0, next.output)
  assertNodeConverged(node)
  const again = await sync(ctx, configPath)
  assert.equal(changedSteps(again.output), [], again.output)
})

reliabilityCase(Nodes, 'input', 'a node registries.yaml that is a YAML alias bomb: refused naming the alias limit, file untouched, no restart', async (ctx) => {
  const node = nodeAt(ctx, 4)
  const levels = Array.from({ length: 9 }, (_, i) => `l${i + 1}: &l${i + 1} [${Array(9).fill(`*l${i}`).join(', ')}]`)
  const bomb = `l0: &l0 [lol, lol, lol, lol, lol, lol, lol, lol, lol]\n${levels.join('\n')}\n`
  writeFileSync(yamlPath(node), bomb)
  const restarts = labNodeRestarts(node).length
  const run = await sync(ctx, configWith(ctx, [entry(ctx, 4)]))
  assertFailedAlone(run, node, /alias/i)
  assert.is(readFileSync(yamlPath(node), 'utf8'), bomb)
  assert.is(labNodeRestarts(node).length, restarts)
})

reliabilityCase(Nodes, 'input', 'a node registries.yaml of 50 MB: refused naming its size and the limit, file untouched, no restart', async (ctx) => {
  const node = nodeAt(ctx, 4)
  const big = `${FOREIGN_YAML}# ${'y'.repeat(50 * 1024 * 1024)}\n`
  writeFileSync(yamlPath(node), big)
  const restarts = labNodeRestarts(node).length
  const run = await sync(ctx, configWith(ctx, [entry(ctx, 4)]))
  assertFailedAlone(run, node, /is \d+ bytes, over the 1048576-byte limit; left untouched/)
  assert.is(statSync(yamlPath(node)).size, Buffer.byteLength(big))
  assert.is(labNodeRestarts(node).length, restarts)
})

Nodes('--accept-new-host-keys trusts an unknown node only when asked; without it the unknown key is refused naming its fingerprint', async (ctx) => {
  const knownHosts = join(mkdtempSync(join(tmpdir(), 'reliability-known-hosts-')), 'known_hosts')
  const configPath = configWith(ctx, [entry(ctx, 0)], { nodeTrust: { knownHostsFile: knownHosts } })
  const strict = await sync(ctx, configPath)
  assert.is(strict.code, 1, strict.output)
  assert.match(strict.output, /SHA256:/)
  assert.not.ok(existsSync(knownHosts) && readFileSync(knownHosts, 'utf8').includes(nodeAt(ctx, 0).host))
  const tofu = await sync(ctx, configPath, ['--accept-new-host-keys'])
  assert.is(tofu.code, 0, tofu.output)
  assert.match(readFileSync(knownHosts, 'utf8'), new RegExp(nodeAt(ctx, 0).host.replaceAll('.', '\\.')))
})

Nodes('no node fault printed the registry or sudo password, in output or in any process argv', (ctx) => {
  ctx.scan.stopArgv()
  assert.ok(ctx.scan.samples > 0)
  assert.equal(ctx.scan.leaks, [])
})

Nodes.run()
