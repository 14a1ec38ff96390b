import { spawn } from 'node:child_process'
import { existsSync, mkdirSync, readdirSync, readFileSync, rmSync, statSync, writeFileSync } from 'node:fs'
import { join } from 'node:path'
import { setTimeout as sleep } from 'node:timers/promises'
import { suite } from 'uvu'
import * as assert from 'uvu/assert'
import { inNodeNamespace, labNodeRestarts, sampleProcessArgv, setLabNodeFault, setLabNodeUnit, type LabNode, reportHookErrors } from '@homelab/lab'
import { createKubeClient, knownHostName } from '@homelab/core'
import { createNodeTrust, NodeLookupError, nodeTrust, resolveNodeName, type TrustNode } from '../src/index.js'
import { dropHostRecord, dropRunLock, runTool, setCredentialsSecret, startNodeTrustLab, TEST_IMAGE, writeConfig, type LabSetup, type NodeTrustLab } from './fixtures/node-trust-lab.js'

// 127.0.1.221–226 for these nodes; .227 is left without an sshd to play the unreachable node.
const SETUP: LabSetup = { name: 'node-trust-faults', count: 6, firstIp: '127.0.1.221', registryIp: '127.0.2.202', nodeReady: '6s' }
const UNREACHABLE = '127.0.1.227'
const SYNC_CHILD = join(import.meta.dirname, 'fixtures', 'sync-child.ts')

type Ctx = { env: NodeTrustLab; configPath: string }

const Faults = suite<Ctx>('node-trust faults', {} as Ctx)

const k3sDir = (node: LabNode) => join(node.etcRancher, 'k3s')
const yamlOf = (node: LabNode) => join(k3sDir(node), 'registries.yaml')
const node = (env: NodeTrustLab, i: number) => env.lab.nodes[i]!

type NodeEntry = { host: string; port: number; user: string; keyFile: string; role?: string; name?: string }
const entry = (env: NodeTrustLab, i: number, extra: Partial<NodeEntry> = {}): NodeEntry => ({ host: node(env, i).host, port: node(env, i).port, user: 'root', keyFile: env.lab.clientKeyPath, ...extra })

/** A config with just these nodes (and any overrides), written next to the lab's. */
function configWith(ctx: Ctx, nodes: NodeEntry[], extraConfig: Record<string, unknown> = {}): string {
  writeConfig(ctx.configPath, { ...SETUP, extraConfig }, ctx.env.lab, ctx.env.kubeconfigPath, nodes)
  return ctx.configPath
}

Faults.before(reportHookErrors(async (ctx) => {
  ctx.env = await startNodeTrustLab(SETUP)
  ctx.configPath = join(ctx.env.stateDir, 'faults.yaml')
}))

Faults.before.each(async ({ env }) => {
  for (const n of env.lab.nodes) {
    await setLabNodeFault(n, 'none')
    setLabNodeUnit(n, 'k3s')
    rmSync(k3sDir(n), { recursive: true, force: true })
  }
  await setCredentialsSecret(env.kubeconfigPath, env.password, env.registry.caPem)
  // Every test starts from "never synced", the record of the registry host included.
  await dropHostRecord(env.kubeconfigPath)
})

Faults.after(async (ctx) => {
  await ctx.env?.stop()
})

Faults('an unreachable node fails alone and is named; the others converge; exit 1', async (ctx) => {
  const { env } = ctx
  const run = await runTool(nodeTrust, 'bootstrap', configWith(ctx, [entry(env, 0), { ...entry(env, 1), host: UNREACHABLE }, entry(env, 2)]))
  assert.is(run.code, 1, run.output)
  assert.match(run.output, new RegExp(`failed\\s+node-trust ${UNREACHABLE.replaceAll('.', '\\.')}`))
  assert.match(run.output, /connection refused/)
  assert.ok(existsSync(yamlOf(node(env, 0))) && existsSync(yamlOf(node(env, 2))), 'the reachable nodes converged')
  // The two reachable nodes and the record of the registry host, written before any node.
  assert.match(run.output, /changed=3 failed=1/)
})

Faults('a changed host key is refused, naming the known_hosts line; nothing is written there', async (ctx) => {
  const { env } = ctx
  const knownHosts = join(env.stateDir, 'changed_known_hosts')
  const lines = readFileSync(env.lab.knownHostsPath, 'utf8').trim().split('\n')
  const name = (i: number) => knownHostName(node(env, i).host, node(env, i).port)
  const keyOf = (i: number) => lines.find((l) => l.startsWith(`${name(i)} `))!.split(' ').slice(1).join(' ')
  writeFileSync(knownHosts, `# ops\n${name(0)} ${keyOf(1)}\n${name(1)} ${keyOf(1)}\n`)
  const run = await runTool(nodeTrust, 'bootstrap', configWith(ctx, [entry(env, 0), entry(env, 1)], { nodeTrust: { knownHostsFile: knownHosts, backups: 3 } }))
  assert.is(run.code, 1, run.output)
  assert.match(run.output, `${knownHosts} line 2`)
  assert.ok(run.output.includes(`ssh-keygen -R '${name(0)}'`), run.output)
  assert.not.ok(existsSync(yamlOf(node(env, 0))), 'the refused node got a file')
  assert.ok(existsSync(yamlOf(node(env, 1))), 'the trusted node converged')
})

Faults('an unparseable registries.yaml is left untouched, named with line and column, and not restarted', async (ctx) => {
  const { env } = ctx
  const bad = 'mirrors:\n  quay.io:\n    endpoint: [https://quay-cache.lan\n'
  mkdirSync(k3sDir(node(env, 0)), { recursive: true })
  writeFileSync(yamlOf(node(env, 0)), bad)
  const restarts = labNodeRestarts(node(env, 0)).length
  const run = await runTool(nodeTrust, 'bootstrap', configWith(ctx, [entry(env, 0), entry(env, 1)]))
  assert.is(run.code, 1, run.output)
  assert.match(run.output, /registries\.yaml does not parse at line \d+, column \d+/)
  assert.is(readFileSync(yamlOf(node(env, 0)), 'utf8'), bad)
  assert.equal(readdirSync(k3sDir(node(env, 0))), ['registries.yaml'])
  assert.is(labNodeRestarts(node(env, 0)).length, restarts)
  assert.ok(existsSync(yamlOf(node(env, 1))))
})

const MIB = 1024 * 1024

Faults('a sync killed mid-transfer leaves the old file intact; the next sync finishes the job', async (ctx) => {
  const { env } = ctx
  const target = node(env, 0)
  // A file big enough that its transfer takes a while: the kill must land between the first and the last byte.
  const old = `# ${'x'.repeat(12 * MIB)}\nmirrors: {}\n`
  mkdirSync(k3sDir(target), { recursive: true })
  writeFileSync(yamlOf(target), old, { mode: 0o600 })
  const config = configWith(ctx, [entry(env, 0, { role: 'server' })])
  const child = spawn(process.execPath, ['--import', 'tsx', SYNC_CHILD, config, String(64 * MIB)], { stdio: 'ignore' })
  let tempSeen = 0
  for (const deadline = Date.now() + 60_000; Date.now() < deadline && child.exitCode === null && tempSeen === 0;) {
    const temp = readdirSync(k3sDir(target)).find((n) => n.includes('homelab-tmp'))
    const size = temp === undefined ? 0 : (statSync(join(k3sDir(target), temp), { throwIfNoEntry: false })?.size ?? 0)
    if (size >= MIB) {
      tempSeen = size
      child.kill('SIGKILL')
    }
    await sleep(1)
  }
  await new Promise((resolve) => (child.exitCode !== null || child.signalCode !== null ? resolve(null) : child.once('exit', resolve)))
  assert.ok(tempSeen > 0, 'the temp file was never seen growing: the kill did not land mid-transfer')
  assert.ok(readFileSync(yamlOf(target), 'utf8') === old, 'the old file changed')
  await dropRunLock(env.kubeconfigPath)
  const run = await runTool(createNodeTrust({ limits: { maxBytes: 64 * MIB, maxAliasCount: 100 } }), 'bootstrap', config)
  assert.is(run.code, 0, run.output)
  assert.match(readFileSync(yamlOf(target), 'utf8'), /registry\.homelab\.local/)
  assert.equal(readdirSync(k3sDir(target)).filter((n) => n.includes('homelab-tmp')), [])
})

Faults('a node that never becomes Ready stops the rollout, says how to restore, and later nodes stay untouched', async (ctx) => {
  const { env } = ctx
  mkdirSync(k3sDir(node(env, 1)), { recursive: true })
  writeFileSync(yamlOf(node(env, 1)), 'mirrors: {}\n')
  await setLabNodeFault(node(env, 1), 'never-ready')
  const before = [0, 1, 2, 3].map((i) => labNodeRestarts(node(env, i)).length)
  const nodes = [0, 1, 2, 3].map((i) => entry(env, i, { role: 'server' }))
  const run = await runTool(nodeTrust, 'bootstrap', configWith(ctx, nodes))
  assert.is(run.code, 1, run.output)
  const host = node(env, 1).host
  assert.match(run.output, `${host} (Node lab-node-222) did not come back after \`systemctl restart k3s\``)
  assert.match(run.output, /cp -p \/etc\/rancher\/k3s\/registries\.yaml\.bak-\d{8}T\d{6}\.\d{3}Z \/etc\/rancher\/k3s\/registries\.yaml && systemctl restart k3s/)
  for (const later of ['223', '224']) assert.match(run.output, new RegExp(`skipped\\s+node-trust 127\\.0\\.1\\.${later}: not touched: the rollout stopped at 127\\.0\\.1\\.222`), run.output)
  assert.equal([0, 1, 2, 3].map((i) => labNodeRestarts(node(env, i)).length - before[i]!), [1, 1, 0, 0])
  assert.not.ok(existsSync(yamlOf(node(env, 2))) || existsSync(yamlOf(node(env, 3))), 'a node after the stop was written')
})

Faults('a restart that never finished is retried by the next sync (plan shows it due); then the marker is gone and a third sync is a no-op', async (ctx) => {
  const { env } = ctx
  const target = node(env, 3)
  const marker = join(k3sDir(target), '.homelab-devtools-restart-pending')
  const config = configWith(ctx, [entry(env, 3, { role: 'server' })])
  await setLabNodeFault(target, 'never-ready')
  const failed = await runTool(nodeTrust, 'bootstrap', config)
  assert.is(failed.code, 1, failed.output)
  assert.ok(existsSync(yamlOf(target)) && existsSync(marker), 'the files were written and the restart marked due')
  await setLabNodeFault(target, 'none')
  const plan = await runTool(nodeTrust, 'plan', config)
  assert.match(plan.output, /restart k3s on 127\.0\.1\.224 \(still due: an earlier run wrote the files but did not see K3s come back\)/, plan.output)
  const restarts = labNodeRestarts(target).length
  const sampler = sampleProcessArgv()
  const retry = await runTool(nodeTrust, 'bootstrap', config)
  const { seen } = sampler.stop()
  assert.is(retry.code, 0, retry.output)
  // Queued, not waited on: a K3s unit (Type=notify, TimeoutStartSec=0) that never gets ready would hang a blocking restart.
  assert.ok([...seen].some((c) => c.includes('systemctl restart --no-block k3s')), 'the restart was not queued with --no-block')
  assert.match(retry.output, /changed=1/)
  assert.is(labNodeRestarts(target).length, restarts + 1)
  assert.is(labNodeRestarts(target).at(-1)?.outcome, 'ready')
  assert.not.ok(existsSync(marker), 'the marker outlived a restart that finished')
  const again = await runTool(nodeTrust, 'bootstrap', config)
  assert.match(again.output, /changed=0/, again.output)
  assert.is(labNodeRestarts(target).length, restarts + 1)
})

Faults('a node the cluster has no Node for fails alone, before any write; the rollout goes on with the nodes after it', async (ctx) => {
  const { env } = ctx
  // Found by address: the lookup names the address and the key to set.
  const kube = createKubeClient({ kubeconfigPath: env.kubeconfigPath, fieldManager: 'node-trust-test' })
  const ghost: TrustNode = { key: 'nodes[0]', label: 'pi-ghost.lan', name: undefined, unit: 'k3s', target: { host: 'pi-ghost.lan', user: 'root', knownHostsPath: env.lab.knownHostsPath } }
  const error = await resolveNodeName(kube, ghost).then(() => undefined, (e: unknown) => e)
  assert.instance(error, NodeLookupError)
  assert.match((error as Error).message, /no Node in the cluster has the address pi-ghost\.lan; set nodes\[0\]\.name/)

  // Named wrong, first in the rollout, in a real run: nothing written or restarted there, the node after it converges.
  const [named, after] = [node(env, 2), node(env, 3)]
  for (const n of [named, after]) {
    mkdirSync(k3sDir(n), { recursive: true })
    writeFileSync(yamlOf(n), 'mirrors: {}\n')
  }
  const restarts = [labNodeRestarts(named).length, labNodeRestarts(after).length]
  const run = await runTool(nodeTrust, 'bootstrap', configWith(ctx, [entry(env, 2, { name: 'ghost-node' }), entry(env, 3)]))
  assert.is(run.code, 1, run.output)
  assert.match(run.output, /no Node named ghost-node in the cluster; set nodes\[0\]\.name to the node's name/)
  assert.is(readFileSync(yamlOf(named), 'utf8'), 'mirrors: {}\n', 'the node without a Node was written')
  assert.equal(readdirSync(k3sDir(named)), ['registries.yaml'], 'a marker or backup was written there')
  assert.equal([labNodeRestarts(named).length, labNodeRestarts(after).length], [restarts[0], restarts[1]! + 1])
  assert.match(readFileSync(yamlOf(after), 'utf8'), /registry/)
  const fixed = await runTool(nodeTrust, 'bootstrap', configWith(ctx, [entry(env, 2), entry(env, 3)]))
  assert.is(fixed.code, 0, fixed.output)
})

Faults('a wrong registry password: the CRI pull fails and verify calls it an auth error', async (ctx) => {
  const { env } = ctx
  const wrong = `wrong-${env.password}`
  await setCredentialsSecret(env.kubeconfigPath, wrong, env.registry.caPem)
  const config = configWith(ctx, [entry(env, 4)])
  assert.is((await runTool(nodeTrust, 'bootstrap', config)).code, 0)
  const run = await runTool(createNodeTrust({ testImage: TEST_IMAGE }), 'verify', config)
  assert.is(run.code, 1, run.output)
  assert.match(run.output, /auth error: the registry refused the credentials in registries\.yaml/)
  assert.match(run.output, /401 Unauthorized/)
  assert.not.ok(run.output.includes(wrong), 'the password is in the output')
})

Faults('an agent node is found by its k3s-agent unit and restarted as k3s-agent', async (ctx) => {
  const { env } = ctx
  setLabNodeUnit(node(env, 5), 'k3s-agent')
  const run = await runTool(nodeTrust, 'bootstrap', configWith(ctx, [entry(env, 5)]))
  assert.is(run.code, 0, run.output)
  assert.is(labNodeRestarts(node(env, 5)).at(-1)?.unit, 'k3s-agent')
})

Faults('a full /etc/rancher fails that node’s write and keeps its old file; no restart', async (ctx) => {
  const { env } = ctx
  mkdirSync(k3sDir(node(env, 5)), { recursive: true })
  writeFileSync(yamlOf(node(env, 5)), 'mirrors: {}\n')
  await setLabNodeFault(node(env, 5), 'full')
  const restarts = labNodeRestarts(node(env, 5)).length
  const run = await runTool(nodeTrust, 'bootstrap', configWith(ctx, [entry(env, 5)]))
  assert.is(run.code, 1, run.output)
  assert.match(run.output, /No space left on device|Failure/i)
  // The tmpfs is mounted in the node's namespace only: read the file as the node sees it.
  assert.is(await inNodeNamespace(node(env, 5), ['cat', '/etc/rancher/k3s/registries.yaml']), 'mirrors: {}\n')
  assert.is(labNodeRestarts(node(env, 5)).length, restarts)
})

Faults.run()
