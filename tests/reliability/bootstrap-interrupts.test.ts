// Ctrl-C in each phase of a bootstrap, on one homelab of the suite's own (its registry namespace, two Pi-hole doubles,
// two lab nodes, LocalStack): the registry's certificate and rollout waits, the Pi-hole writes, the registries.yaml
// write and the rolling K3s restart, LocalStack's wait, and the final verify stage. Each phase runs as its package's
// own task (a process, so the signal is real), struck once its progress shows it under way. Each: exit 130 saying to
// run again, no node file half-written, the registry read-write; the next run finishes, the one after is changed=0.
// (SIGINT after the first registry object is applied is kube-faults.test.ts's case.)
import { mkdirSync, mkdtempSync, readdirSync, readFileSync, rmSync, writeFileSync } from 'node:fs'
import { tmpdir } from 'node:os'
import { join } from 'node:path'
import { toolNamespace, type Component } from '@homelab/core'
import { dns } from '@homelab/dns'
import { type LabNode, labNodeRestarts, type LabNodes, type PiholeDouble, repoRoot, reportHookErrors, startLabNodes, startPihole } from '@homelab/lab'
import { localstack } from '@homelab/localstack'
import { nodeTrust } from '@homelab/node-trust'
import { registry } from '@homelab/registry'
import { suite } from 'uvu'
import * as assert from 'uvu/assert'
import { parse } from 'yaml'
import { deleteNamespace, useLabKube, type LabKube } from './support/lab-kube.js'
import { assertInterrupted, interruptTask, type InterruptedRun } from './support/interrupt.js'
import { KNOWN_SECRETS, LeakScan } from './support/leak-scan.js'
import { reliabilityCase } from './support/reliability-tally.js'
import { assertRegistryTakesWrites, registryIsReadOnly } from './support/registry-state.js'
import { changedSteps, runComponents, spawnTask, writeConfigFile } from './support/tool-run.js'

type Names = { tool: string; registry: string; localstack: string; ca: string }
type Ctx = { lab: LabKube; scan: LeakScan; names: Names; nodes: LabNodes; piholes: PiholeDouble[]; config: Record<string, unknown>; configPath: string }
const Interrupts = suite<Ctx>('Ctrl-C in each bootstrap phase: exit 130, nothing half-written, the registry read-write, the next run converges', {} as Ctx)

const TRAEFIK_IP = '127.0.2.1'
const DNS_PORT = 1053
const FOREIGN_RECORD = '10.0.0.9 nas.homelab.local'
const FOREIGN_YAML = '# ops: our pull-through cache for quay\nmirrors:\n  quay.io:\n    endpoint:\n      - https://quay-cache.lan\n'
const FOREIGN_CONFIG = 'write-kubeconfig-mode: "0644"\n'
const SHARED_SINGLETON = 'apply ConfigMap kube-public/local-registry-hosting'
const ALL: readonly Component[] = [toolNamespace, registry, dns, nodeTrust, localstack]
const task = (path: string) => join(repoRoot(), path)

const hosts = (names: Names) => ({ registry: `${names.registry}-reg`, ui: `${names.registry}-ui`, localstack: `${names.localstack}-ls` })
const ourRecords = (names: Names) => Object.values(hosts(names)).map((h) => `${TRAEFIK_IP} ${h}.homelab.local`)

function homelabConfig(ctx: Ctx): Record<string, unknown> {
  const { names } = ctx
  const h = hosts(names)
  return {
    domain: 'homelab.local',
    ingress: { ip: TRAEFIK_IP },
    kubernetes: { kubeconfig: ctx.lab.kubeconfigPath, namespace: names.tool },
    tls: { ca: { selfSignedIssuer: `${names.ca}-selfsigned`, certificate: `${names.ca}-root-ca`, secretName: `${names.ca}-root-ca`, issuer: `${names.ca}-ca` } },
    registry: { namespace: names.registry, hosts: { registry: h.registry, ui: h.ui }, users: [{ name: 'admin', password: KNOWN_SECRETS.registryPassword }] },
    localstack: { namespace: names.localstack, host: h.localstack },
    dns: { piholes: ctx.piholes.map((p, i) => ({ url: p.url, name: `pihole-${i + 1}`, password: KNOWN_SECRETS.piholePassword, dnsPort: DNS_PORT })) },
    nodes: ctx.nodes.nodes.map((n) => ({ name: n.nodeName, host: n.host, port: n.port, user: 'root', keyFile: ctx.nodes.clientKeyPath, role: 'server' })),
    nodeTrust: { knownHostsFile: ctx.nodes.knownHostsPath, backups: 2 },
    timeouts: { certificate: '60s', rollout: '90s', nodeReady: '30s', ssh: '5s' },
  }
}

const k3sDir = (node: LabNode) => join(node.etcRancher, 'k3s')
const yamlPath = (node: LabNode) => join(k3sDir(node), 'registries.yaml')
const nodeFiles = (ctx: Ctx) => ctx.nodes.nodes.map((n) => readFileSync(yamlPath(n), 'utf8'))
const restarts = (ctx: Ctx) => ctx.nodes.nodes.map((n) => labNodeRestarts(n).length)

/** A node as someone else left it: their mirror and comment in registries.yaml, their own config.yaml beside it. */
function seedForeign(node: LabNode, yaml = FOREIGN_YAML): void {
  rmSync(k3sDir(node), { recursive: true, force: true })
  mkdirSync(k3sDir(node), { recursive: true })
  writeFileSync(yamlPath(node), yaml, { mode: 0o600 })
  writeFileSync(join(k3sDir(node), 'config.yaml'), FOREIGN_CONFIG)
}

/** Right after the interrupt: no temp file beside any registries.yaml, each parses, and the registry is not read-only. */
async function assertNothingHalfDone(ctx: Ctx): Promise<string[]> {
  for (const node of ctx.nodes.nodes) {
    assert.equal(readdirSync(k3sDir(node)).filter((n) => n.includes('tmp')), [], `a temp file was left on ${node.host}`)
    parse(readFileSync(yamlPath(node), 'utf8'))
  }
  assert.is(await registryIsReadOnly(ctx.lab.kube, ctx.names.registry), false, 'the interrupted run left the registry read-only')
  return nodeFiles(ctx)
}

/** Each node's file as the interrupt left it was either the file before the run or the one the next run converged to. */
function assertOldOrNew(interrupted: string[], before: string[], after: string[]): void {
  interrupted.forEach((text, i) => assert.ok(text === before[i] || text === after[i], `registries.yaml on node ${i} is neither the old file nor the new one`))
}

/** The next run of the same components finishes; the one after changes nothing; nothing foreign was lost. */
async function assertNextRunsConverge(ctx: Ctx, components: readonly Component[]): Promise<void> {
  const next = await runComponents(components, 'bootstrap', { configPath: ctx.configPath, scan: ctx.scan })
  assert.is(next.code, 0, next.output)
  const before = restarts(ctx)
  const again = await runComponents(components, 'bootstrap', { configPath: ctx.configPath, scan: ctx.scan })
  assert.is(again.code, 0, again.output)
  // kube-public/local-registry-hosting is one per cluster: any other registry test sharing the lab rewrites it.
  assert.equal(changedSteps(again.output).filter((s) => s !== SHARED_SINGLETON), [], again.output)
  assert.equal(restarts(ctx), before, 'a converged run restarted K3s')
  for (const p of ctx.piholes) assert.ok(p.records().hosts.includes(FOREIGN_RECORD), `the foreign record on ${p.url} is gone`)
  for (const node of ctx.nodes.nodes) {
    const text = readFileSync(yamlPath(node), 'utf8')
    if (text.includes(hosts(ctx.names).registry)) assert.ok(text.includes('https://quay-cache.lan'), `the foreign mirror was lost on ${node.host}`)
    assert.is(readFileSync(join(k3sDir(node), 'config.yaml'), 'utf8'), FOREIGN_CONFIG)
  }
}

/** A node whose file went in is restarted and seen Ready even after Ctrl-C, or no later run would ever restart it. */
function assertRestartSeenThrough(run: InterruptedRun, node: LabNode): void {
  assert.match(run.output, `interrupted: waiting for ${node.nodeName} to come back from its restart before stopping`)
  assert.match(run.output, new RegExp(`changed\\s+node-trust ${node.nodeName}\\n`))
  assert.not.match(run.output, /did not come back/)
}

const interrupt = (ctx: Ctx, script: string, when: (output: string) => boolean): Promise<InterruptedRun> =>
  interruptTask(task(script), ['--config', ctx.configPath], { scan: ctx.scan, when })

const writeConfig = (ctx: Ctx, config: Record<string, unknown>) => {
  ctx.config = config
  ctx.configPath = writeConfigFile(config)
}

Interrupts.before(reportHookErrors(async (ctx) => {
  ctx.lab = await useLabKube()
  ctx.scan = new LeakScan()
  const stamp = Date.now().toString(36)
  ctx.names = { tool: `rel-int-tool-${stamp}`, registry: `rel-int-${stamp}`, localstack: `rel-int-ls-${stamp}`, ca: `rel-int-${stamp}` }
  const h = hosts(ctx.names)
  // Under a reliability- name, so secrets.test.ts scans what the tool left on these nodes.
  const stateDir = join(tmpdir(), 'reliability-interrupt-nodes')
  mkdirSync(stateDir, { recursive: true })
  ctx.nodes = await startLabNodes({
    stateDir, count: 2, firstIp: '127.0.1.176', kubeconfigPath: ctx.lab.kubeconfigPath, servicesIp: TRAEFIK_IP,
    serviceHosts: [h.registry, h.ui, h.localstack].map((n) => `${n}.homelab.local`),
  })
  ctx.piholes = []
  for (const ip of ['127.0.4.131', '127.0.4.132']) {
    const pihole = await startPihole({ stateDir: mkdtempSync(join(tmpdir(), 'reliability-pihole-')), ip, dnsPort: DNS_PORT, password: KNOWN_SECRETS.piholePassword })
    await pihole.seed({ hosts: [FOREIGN_RECORD] })
    ctx.piholes.push(pihole)
  }
  for (const node of ctx.nodes.nodes) seedForeign(node)
  writeConfig(ctx, homelabConfig(ctx))
  // The tool's own namespace (run locks, DNS ownership) first, as the pipeline's first stage makes it.
  const first = await runComponents([toolNamespace], 'bootstrap', { configPath: ctx.configPath, scan: ctx.scan })
  assert.is(first.code, 0, first.output)
  ctx.scan.startArgv()
}))

Interrupts.after(async (ctx) => {
  ctx.scan?.stopArgv()
  for (const p of ctx.piholes ?? []) await p.stop()
  await ctx.nodes?.stop()
  const { names } = ctx
  if (!names) return
  for (const ns of [names.registry, names.localstack, names.tool]) await deleteNamespace(ctx.lab?.kube, ns)
  for (const name of [`${names.ca}-selfsigned`, `${names.ca}-ca`]) await ctx.lab?.kube.delete({ apiVersion: 'cert-manager.io/v1', kind: 'ClusterIssuer', name })
  await ctx.lab?.kube.delete({ apiVersion: 'cert-manager.io/v1', kind: 'Certificate', name: `${names.ca}-root-ca`, namespace: 'cert-manager' })
})

reliabilityCase(Interrupts, 'fault', 'Ctrl-C (SIGINT) while the registry waits for its certificates: exit 130 saying to run again, nothing half-written, the registry read-write; the next run finishes, then changed=0', async (ctx) => {
  const before = nodeFiles(ctx)
  const run = await interrupt(ctx, 'packages/registry/tasks/bootstrap.ts', (o) => /wait for the registry certificates to be Ready: waiting for /.test(o))
  assertInterrupted(run)
  assert.match(run.output, /failed\s+wait for the registry certificates to be Ready\n\s+interrupted while waiting for Certificate /)
  const interrupted = await assertNothingHalfDone(ctx)
  await assertNextRunsConverge(ctx, [registry])
  assertOldOrNew(interrupted, before, nodeFiles(ctx))
  await assertRegistryTakesWrites(ctx.lab.kube, ctx.configPath)
})

reliabilityCase(Interrupts, 'fault', 'Ctrl-C (SIGINT) while the registry rollout is awaited (a changed memory limit): exit 130 saying to run again, the registry read-write; the next run finishes, then changed=0', async (ctx) => {
  const config = homelabConfig(ctx)
  ;(config['registry'] as Record<string, unknown>)['resources'] = { limits: { memory: '600Mi' } }
  writeConfig(ctx, config)
  const before = nodeFiles(ctx)
  const run = await interrupt(ctx, 'packages/registry/tasks/bootstrap.ts', (o) => /wait for Deployment \S+\/registry to be available: waiting for /.test(o))
  assertInterrupted(run)
  assert.match(run.output, /failed\s+wait for Deployment \S+\/registry to be available\n\s+interrupted while waiting for Deployment /)
  const interrupted = await assertNothingHalfDone(ctx)
  await assertNextRunsConverge(ctx, [registry])
  assertOldOrNew(interrupted, before, nodeFiles(ctx))
  await assertRegistryTakesWrites(ctx.lab.kube, ctx.configPath)
})

reliabilityCase(Interrupts, 'fault', 'Ctrl-C (SIGINT) while dns sync writes to the Pi-holes: exit 130 saying to run again, every record whole and the foreign one kept; the next sync finishes, then changed=0 with no write', async (ctx) => {
  const wanted = ourRecords(ctx.names)
  const run = await interrupt(ctx, 'packages/dns/tasks/sync.ts', () => ctx.piholes.some((p) => p.requests.writes().length > 0))
  assertInterrupted(run)
  for (const p of ctx.piholes) {
    const records = p.records().hosts
    assert.ok(records.includes(FOREIGN_RECORD), `the foreign record on ${p.url} is gone`)
    assert.equal(records.filter((r) => r !== FOREIGN_RECORD && !wanted.includes(r)), [], `a record that is neither foreign nor wanted on ${p.url}`)
  }
  await assertNothingHalfDone(ctx)
  const writes = () => ctx.piholes.map((p) => p.requests.writes().length)
  const next = await runComponents([dns], 'bootstrap', { configPath: ctx.configPath, scan: ctx.scan })
  assert.is(next.code, 0, next.output)
  for (const p of ctx.piholes) assert.equal([...p.records().hosts].sort(), [FOREIGN_RECORD, ...wanted].sort())
  const seen = writes()
  await assertNextRunsConverge(ctx, [dns])
  assert.equal(writes(), seen, 'a converged sync wrote to a Pi-hole')
})

reliabilityCase(Interrupts, 'fault', 'Ctrl-C (SIGINT) while node-trust writes registries.yaml: exit 130 saying to run again, the file old or new (never half-written), no temp file, that node restarted and seen Ready; the next sync finishes, then changed=0', async (ctx) => {
  const [first] = ctx.nodes.nodes
  // Just under the 1 MiB limit, so the transfer lasts long enough to be caught in the middle.
  writeFileSync(yamlPath(first!), `${FOREIGN_YAML}# ${'x'.repeat(1000 * 1024)}\n`, { mode: 0o600 })
  const before = nodeFiles(ctx)
  const run = await interrupt(ctx, 'packages/node-trust/tasks/sync.ts', () => readdirSync(k3sDir(first!)).some((n) => n.includes('tmp')))
  assertInterrupted(run)
  assertRestartSeenThrough(run, first!)
  const interrupted = await assertNothingHalfDone(ctx)
  assert.is(interrupted[1], before[1], 'the node after the interrupted one was written')
  await assertNextRunsConverge(ctx, [nodeTrust])
  assertOldOrNew(interrupted, before, nodeFiles(ctx))
})

reliabilityCase(Interrupts, 'fault', 'Ctrl-C (SIGINT) during the rolling K3s restart: exit 130 saying to run again, the restarting node seen Ready with its new file, the next node not touched; the next sync finishes, then changed=0', async (ctx) => {
  for (const node of ctx.nodes.nodes) seedForeign(node)
  const [first, second] = ctx.nodes.nodes as [LabNode, LabNode]
  const secondRestarts = labNodeRestarts(second).length
  const before = nodeFiles(ctx)
  const run = await interrupt(ctx, 'packages/node-trust/tasks/sync.ts', (o) => o.includes(`restarting k3s on ${first.nodeName}`))
  assertInterrupted(run)
  assertRestartSeenThrough(run, first)
  assert.match(run.output, new RegExp(`skipped\\s+node-trust ${second.nodeName}: interrupted`))
  const interrupted = await assertNothingHalfDone(ctx)
  assert.is(interrupted[1], FOREIGN_YAML, 'the node after the restarting one was written')
  assert.is(labNodeRestarts(second).length, secondRestarts, 'the node after the restarting one was restarted')
  await assertNextRunsConverge(ctx, [nodeTrust])
  const after = nodeFiles(ctx)
  assert.is(interrupted[0], after[0], 'the restarted node did not get the new file before its restart')
  assertOldOrNew(interrupted, before, after)
})

reliabilityCase(Interrupts, 'fault', 'Ctrl-C (SIGINT) while LocalStack is awaited: exit 130 saying to run again, nothing half-written, the registry read-write; the next run finishes, then changed=0', async (ctx) => {
  const before = nodeFiles(ctx)
  const run = await interrupt(ctx, 'packages/localstack/tasks/bootstrap.ts', (o) => /localstack ready: waiting for Deployment /.test(o))
  assertInterrupted(run)
  assert.match(run.output, /failed\s+localstack ready\n\s+interrupted while waiting for Deployment /)
  const interrupted = await assertNothingHalfDone(ctx)
  await assertNextRunsConverge(ctx, [localstack])
  assertOldOrNew(interrupted, before, nodeFiles(ctx))
})

reliabilityCase(Interrupts, 'fault', 'Ctrl-C (SIGINT) in the final verify stage (the registry metrics Job running): exit 130 saying to run again, no verify Job left; the next verify passes and a full bootstrap is changed=0', async (ctx) => {
  const before = nodeFiles(ctx)
  const run = await interrupt(ctx, 'tasks/verify.ts', (o) => /waiting for Job \S+\/registry-verify-metrics-/.test(o))
  assertInterrupted(run)
  const interrupted = await assertNothingHalfDone(ctx)
  const jobs = await ctx.lab.kube.list('batch/v1', 'Job', { namespace: ctx.names.registry })
  assert.equal(jobs.map((j) => j.metadata.name), [], 'the interrupted verify left its Job')
  const next = await spawnTask(task('tasks/verify.ts'), ['--config', ctx.configPath], { scan: ctx.scan })
  assert.is(next.code, 0, next.output)
  await assertNextRunsConverge(ctx, ALL)
  assertOldOrNew(interrupted, before, nodeFiles(ctx))
  await assertRegistryTakesWrites(ctx.lab.kube, ctx.configPath)
})

Interrupts('no interrupted run printed the registry or Pi-hole password, in output or in any process argv', (ctx) => {
  ctx.scan.stopArgv()
  assert.ok(ctx.scan.samples > 0)
  assert.equal(ctx.scan.leaks, [])
})

Interrupts.run()
