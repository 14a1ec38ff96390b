import { spawnSync } from 'node:child_process'
import { mkdirSync, readFileSync, rmSync, writeFileSync } from 'node:fs'
import { dirname, join } from 'node:path'
import { AppsV1Api } from '@kubernetes/client-node'
import { parse, stringify } from 'yaml'
import { suite } from 'uvu'
import * as assert from 'uvu/assert'
import { acquireRunLock, createKubeClient, type KubeClient } from '@homelab/core'
import { storedSecretValue } from '@homelab/registry'
import { labKubeConfig, labNodeRestarts, reportHookErrors, setLabNodeFault } from '@homelab/lab'
import { demoSummary } from '../lab/demo-summary.js'
import type { LabHomelab } from '../lab/lab-homelab.js'
import { pipelineTotal, runToolProcess } from '../lab/run-tool-process.js'
import { changedLines, DOMAIN, footprint, kubeOf, movedObjects, NS, readYaml, startE2eHomelab, yamlOf, type Footprint } from './e2e-homelab.js'

// 127.0.1.71–73 and 127.0.4.71–72: clear of the demo (.1+) and every package test.
type Ctx = { homelab: LabHomelab; config: string[]; before: Footprint }

const E2e = suite<Ctx>('the whole homelab: pipeline, status, rotate-credentials, teardown', {} as Ctx)

const FOREIGN_RECORD = '10.9.9.9 nas.e2e.home.arpa'
const QUAY = '# kept by hand\nmirrors:\n  quay.io:\n    endpoint:\n      - https://quay-cache.lan\n'

const tool = (ctx: Ctx, script: string, args: string[]) => runToolProcess(script, [...args, ...ctx.config])
const storedSecretValueOf = (kube: KubeClient, namespace: string, name: string, key: string) => storedSecretValue(kube, { namespace, name }, key)
const pipeline = (ctx: Ctx, ...args: string[]) => tool(ctx, 'tasks/turbo-pipeline.ts', ['bootstrap', ...args])

E2e.before(reportHookErrors(async (ctx) => {
  ctx.homelab = await startE2eHomelab('e2e', { nodeIp: '127.0.1.71', piholeIps: ['127.0.4.71', '127.0.4.72'] })
  ctx.config = ['--config', ctx.homelab.configPath]
  // Someone else's things, seeded before the tool ever runs: teardown must leave every one of them.
  await ctx.homelab.piholes[0]!.seed({ hosts: [FOREIGN_RECORD] })
  for (const node of ctx.homelab.nodes.nodes) rmSync(dirname(yamlOf(node)), { recursive: true, force: true })
  mkdirSync(dirname(yamlOf(ctx.homelab.nodes.nodes[0]!)), { recursive: true })
  writeFileSync(yamlOf(ctx.homelab.nodes.nodes[0]!), QUAY, { mode: 0o600 })
  const otherKube = createKubeClient({ kubeconfigPath: ctx.homelab.lab.kubeconfigPath, fieldManager: 'someone-else' })
  // Run locks an earlier, aborted run of this suite left on a lab that stayed up (its last test, teardown, removes them).
  for (const lock of await otherKube.list('v1', 'ConfigMap', { namespace: NS.tool })) {
    if (lock.metadata.name.startsWith('run-lock-')) await otherKube.delete({ apiVersion: 'v1', kind: 'ConfigMap', namespace: NS.tool, name: lock.metadata.name })
  }
  await otherKube.apply({ apiVersion: 'v1', kind: 'Namespace', metadata: { name: NS.registry } }, { dryRun: false, force: true })
  await otherKube.apply({ apiVersion: 'v1', kind: 'Secret', metadata: { name: 'foreign', namespace: NS.registry }, data: { a: 'Yg==' } }, { dryRun: false, force: true })
  // Our label alone does not make an object ours: the field manager must be ours too.
  await otherKube.apply({ apiVersion: 'v1', kind: 'ConfigMap', metadata: { name: 'labelled-foreign', namespace: NS.registry, labels: { 'app.kubernetes.io/managed-by': 'homelab-devtools' } }, data: { a: 'b' } }, { dryRun: false, force: true })
}))

E2e.after(async (ctx) => {
  for (const node of ctx.homelab?.nodes.nodes ?? []) await setLabNodeFault(node, 'none')
  await ctx.homelab?.stop()
})

E2e('pnpm turbo bootstrap converges everything, verify included, with records on both Pi-holes and trust on every node', async (ctx) => {
  const run = await pipeline(ctx)
  assert.is(run.code, 0, run.output)
  assert.is(pipelineTotal(run.output)?.failed, 0, run.output)
  assert.match(run.output, /\/\/:verify-all: recap node-trust: ok=\d+ changed=0 failed=0/, run.output)
  // A run that changed things verifies in full: a login through the UI's /v2/ proxy too.
  assert.match(run.output, /\/\/:verify-all: …\s+registry UI \S+ serves its page and proxies \/v2\/: its page, and user admin logs in through \/v2\//, run.output)
  for (const pihole of ctx.homelab.piholes) assert.ok(pihole.records().hosts.includes(`${ctx.homelab.traefikIp} registry.${DOMAIN}`), pihole.url)
  const first = readYaml(ctx.homelab.nodes.nodes[0]!)
  assert.ok(first.startsWith('# kept by hand\nmirrors:\n  quay.io:'), first)
  assert.match(first, new RegExp(`registry\\.${DOMAIN.replaceAll('.', '\\.')}`))
})

E2e('the node command the demo\'s summary offers works: a pull through the registry on the first node', async (ctx) => {
  const summary = demoSummary(ctx.homelab, { first: 0, second: 0, changedAgain: 0, status: 0 })
  const command = /^\s+try:\s+(ssh -p \d+ .*crictl pull .*)$/m.exec(summary)?.[1]
  assert.ok(command, summary)
  const pulled = spawnSync('sh', ['-c', command!], { encoding: 'utf8', timeout: 60_000 })
  assert.is(pulled.status, 0, `${command}\n${pulled.stdout}${pulled.stderr}`)
})

E2e('a second bootstrap reports changed=0 and moves no resourceVersion, DNS record, node file or restart', async (ctx) => {
  ctx.before = await footprint(ctx.homelab)
  const logins = () => ctx.homelab.piholes.map((p) => p.requests.count('POST', '/api/auth'))
  const loginsBefore = logins()
  const run = await pipeline(ctx)
  const after = await footprint(ctx.homelab)
  assert.is(run.code, 0, run.output)
  // One login per Pi-hole for the whole pipeline: preflight's, which dns then works in; the run logs out as it ends.
  assert.equal(logins().map((n, i) => n - loginsBefore[i]!), ctx.homelab.piholes.map(() => 1))
  assert.equal(ctx.homelab.piholes.map((p) => p.sessions.open), ctx.homelab.piholes.map(() => 0))
  assert.equal(changedLines(run.output), [], run.output)
  assert.equal(movedObjects(ctx.before, after), [])
  assert.equal(after.piholeWrites, ctx.before.piholeWrites)
  assert.equal(after.mtimes, ctx.before.mtimes)
  assert.equal(after.restarts, ctx.before.restarts)
  // Nothing changed, so the last stage checked health only, and said so.
  assert.match(run.output, /\/\/:verify-all: …\s+verify: this run changed nothing: quick checks only/, run.output)
  assert.match(run.output, /\/\/:verify-all: skipped\s+registry: 2 end-to-end checks: a quick verify/, run.output)
  assert.match(run.output, /\/\/:verify-all: …\s+registry UI \S+ serves its page and proxies \/v2\/: its page, and the registry behind \/v2\/ \(a login through it/, run.output)
})

/**
 * `task status step` for every step line of a pipeline's output, sorted: what ran, whoever ran it. The lab-shared
 * singleton (see e2e-homelab.ts) is left out: other tests' registries rewrite it between two runs.
 */
const stepLines = (output: string) =>
  output.split('\n').flatMap((line) => {
    const m = /^(\S+): (ok|changed|failed|skipped)\s+(.*?)(?:: .*)?$/.exec(line)
    return m && !m[3]!.includes('kube-public/local-registry-hosting') ? [`${m[1]} ${m[2]} ${m[3]}`] : []
  }).sort()

E2e('--separate-processes (turbo runs each task as its own process) runs the same steps to the same results', async (ctx) => {
  const inProcess = await tool(ctx, 'tasks/turbo-pipeline.ts', ['plan'])
  const separate = await tool(ctx, 'tasks/turbo-pipeline.ts', ['plan', '--separate-processes'])
  assert.is(inProcess.code, 0, inProcess.output)
  assert.is(separate.code, 0, separate.output)
  assert.ok(stepLines(inProcess.output).length > 20, inProcess.output)
  assert.equal(stepLines(separate.output), stepLines(inProcess.output))
  const steps = (run: { output: string }) => {
    const total = pipelineTotal(run.output)
    return total && total.ok + total.changed + total.failed + total.skipped
  }
  assert.is(steps(separate), steps(inProcess))
})

E2e('under --json stdout is events only, each tagged with the task that sent it, ending with the total', async (ctx) => {
  const run = await runToolProcess('tasks/turbo-pipeline.ts', ['bootstrap', '--json', ...ctx.config])
  assert.is(run.code, 0, run.output)
  const events = run.stdout.trim().split('\n').map((line) => JSON.parse(line) as { event: string; task?: string; title?: string; changed?: number })
  const tasks = new Set(events.flatMap((e) => (e.task ? [e.task] : [])))
  assert.equal([...tasks].sort(), ['//#preflight-cluster', '//#preflight-nodes', '//#verify-all', '@homelab/dns#bootstrap', '@homelab/localstack#bootstrap', '@homelab/node-trust#bootstrap', '@homelab/registry#bootstrap'])
  assert.ok(events.slice(0, -1).every((e) => e.task), 'an event without its task')
  assert.equal({ event: events.at(-1)!.event, title: events.at(-1)!.title, changed: events.at(-1)!.changed }, { event: 'recap', title: 'total', changed: 0 })
})

/** Connections each lab node's sshd accepted so far (its log): what a run that must not touch nodes must not move. */
const sshLogins = (ctx: Ctx) => ctx.homelab.nodes.nodes.map((n) => (readFileSync(join(n.dir, 'sshd.log'), 'utf8').match(/Accepted publickey/g) ?? []).length)

E2e('a node that is down stops node-trust and the final verify only: preflight-nodes names it with the fix, the rest converges', async (ctx) => {
  const config = parse(readFileSync(ctx.homelab.configPath, 'utf8')) as { nodes: Record<string, unknown>[] }
  // Nothing listens on .79: the connection is refused, as for a node that is powered off.
  config.nodes.push({ ...config.nodes[0], name: 'lab-node-down', host: '127.0.1.79' })
  const withDownNode = join(dirname(ctx.homelab.configPath), 'homelab-node-down.yaml')
  writeFileSync(withDownNode, stringify(config), { mode: 0o600 })
  const run = await runToolProcess('tasks/turbo-pipeline.ts', ['bootstrap', '--config', withDownNode])
  assert.is(run.code, 1, run.output)
  assert.match(run.output, /\/\/:preflight-nodes: failed\s+node lab-node-down: SSH with a known host key, sudo works/, run.output)
  assert.match(run.output, /127\.0\.1\.79/, run.output)
  // The three lab nodes pass both checks; the one that is down fails SSH and, as no Node has its name, the Node check.
  assert.match(run.output, /\/\/:preflight-nodes: failed\s+node lab-node-down: a Node in the cluster\n.*no Node named lab-node-down/, run.output)
  assert.match(run.output, /\/\/:preflight-nodes: recap preflight nodes: ok=6 changed=0 failed=2/, run.output)
  for (const title of ['registry', 'dns', 'localstack']) assert.match(run.output, new RegExp(`recap ${title}: ok=\\d+ changed=0 failed=0`), run.output)
  // Not started: no line of theirs at all, and the total says so.
  assert.not.match(run.output, /@homelab\/node-trust:bootstrap: (ok|changed|failed|==)/, run.output)
  assert.not.match(run.output, /\/\/:verify-all: (ok|changed|failed|==)/, run.output)
  for (const task of ['@homelab/node-trust#bootstrap', '//#verify-all']) assert.match(run.output, new RegExp(`${task}.*did not finish a run`), run.output)
  const again = await pipeline(ctx)
  assert.is(again.code, 0, again.output)
  assert.equal(changedLines(again.output), [], again.output)
})

E2e('a filtered bootstrap runs that package and what it depends on, nothing else, and opens no connection to any node', async (ctx) => {
  const logins = sshLogins(ctx)
  const run = await pipeline(ctx, '--filter=@homelab/dns')
  assert.is(run.code, 0, run.output)
  const tasks = [...new Set(run.output.split('\n').flatMap((l) => /^(\S+:\S+): /.exec(l)?.[1] ?? []))].sort()
  assert.equal(tasks, ['//:preflight-cluster', '@homelab/dns:bootstrap', '@homelab/registry:bootstrap'], run.output)
  assert.equal(sshLogins(ctx), logins, 'a run that touches no node logged in to one')
  // The whole pipeline does log in to every node, once per node.
  await pipeline(ctx)
  assert.equal(sshLogins(ctx).map((n, i) => n - logins[i]!), [1, 1, 1])
})

E2e('while a pipeline runs, a second one starts nothing and a component run on its own is refused, both naming it', async (ctx) => {
  const holder = await acquireRunLock(kubeOf(ctx.homelab), { namespace: NS.tool, name: 'pipeline', task: 'the other bootstrap' })
  try {
    const run = await pipeline(ctx)
    assert.is(run.code, 1, run.output)
    assert.match(run.output, /the other bootstrap on .* \(pid \d+\)/, run.output)
    assert.match(run.output, /Nothing was started/, run.output)
    assert.match(run.output, /run-lock-pipeline/, run.output)
    assert.not.match(run.output, /preflight/, run.output)
    // A filter that names no package is told as such, not as the lock someone holds.
    for (const mode of [[], ['--separate-processes']]) {
      const badFilter = await pipeline(ctx, ...mode, '--filter=@homelab/no-such-package')
      assert.is(badFilter.code, 2, badFilter.output)
      assert.match(badFilter.output, /no-such-package/, badFilter.output)
      assert.not.match(badFilter.output, /another run holds/, badFilter.output)
    }
    // The pipeline's components take no locks of their own: a sync on its own checks the pipeline's after taking its own.
    const sync = await tool(ctx, 'packages/dns/tasks/sync.ts', [])
    assert.is(sync.code, 1, sync.output)
    // Its first component (the tool's namespace) is refused; dns, after it, is not started.
    assert.match(sync.output, new RegExp(`failed\\s+homelab-devtools run lock\\s+another run holds ${NS.tool}/run-lock-pipeline: the other bootstrap on \\S+ \\(pid \\d+\\)`), sync.output)
    assert.match(sync.output, new RegExp(`skipped\\s+dns bootstrap: another run holds ${NS.tool}/run-lock-pipeline; not started`), sync.output)
    const locks = await kubeOf(ctx.homelab).list('v1', 'ConfigMap', { namespace: NS.tool })
    assert.equal(locks.map((o) => o.metadata.name).filter((n) => n.startsWith('run-lock-')), ['run-lock-pipeline'], 'the refused sync left a lock')
  } finally {
    await holder.release()
  }
})

/** status, with the lab-shared singleton's drift (see e2e-homelab.ts) not counted. */
async function status(ctx: Ctx): Promise<{ code: number; output: string; drift: string[] }> {
  const run = await tool(ctx, 'tasks/status.ts', [])
  const drift = changedLines(run.output)
  const onlySingleton = run.code === 3 && drift.length === 0
  return { code: onlySingleton ? 0 : run.code, output: run.output, drift }
}

E2e('status exits 0 on the converged homelab, LocalStack\'s own health included', async (ctx) => {
  const run = await status(ctx)
  assert.is(run.code, 0, run.output)
  assert.match(run.output, /ok\s+health: https:\/\/\S+\/_localstack\/health answers/, run.output)
})

E2e('a record deleted, a node file edited and the registry scaled to 0 by hand: status exits 3 naming each, bootstrap repairs exactly them', async (ctx) => {
  const [, second] = ctx.homelab.piholes
  const record = `${ctx.homelab.traefikIp} registry.${DOMAIN}`
  const removed = await fetch(`${second!.url}/api/config/dns/hosts/${encodeURIComponent(record)}`, { method: 'DELETE' })
  assert.is(removed.status, 204)
  const node = ctx.homelab.nodes.nodes[1]!
  writeFileSync(yamlOf(node), readYaml(node).replace(/password: .*/, 'password: edited-by-hand'), { mode: 0o600 })
  // What `kubectl scale --replicas=0` sends: the scale subresource, under another field manager.
  await labKubeConfig(ctx.homelab.lab).makeApiClient(AppsV1Api).replaceNamespacedDeploymentScale({ name: 'registry', namespace: NS.registry, fieldManager: 'kubectl', body: { metadata: { name: 'registry', namespace: NS.registry }, spec: { replicas: 0 } } })
  // A run in progress (here a gc) is named: some drift may be its work.
  const gc = await acquireRunLock(kubeOf(ctx.homelab), { namespace: NS.tool, name: 'registry', task: 'registry gc' })
  const found = await status(ctx).finally(() => gc.release())
  assert.is(found.code, 3, found.output)
  assert.match(found.output, new RegExp(`${NS.tool}/run-lock-registry is held by registry gc on \\S+ \\(pid \\d+\\) \\(until `), found.output)
  const drift = found.drift.join('\n')
  assert.match(drift, /dns records on pihole-2/)
  assert.match(drift, new RegExp(`node-trust ${node.nodeName}`))
  assert.match(drift, /Deployment e2e-registry\/registry/)

  const restarts = ctx.homelab.nodes.nodes.map((n) => labNodeRestarts(n).length)
  const repair = await pipeline(ctx, '--force-conflicts')
  assert.is(repair.code, 0, repair.output)
  const changed = changedLines(repair.output)
  assert.equal(changed.sort(), [`apply Deployment ${NS.registry}/registry`, 'dns records on pihole-2 (http://127.0.4.72)', `node-trust ${node.nodeName}`].sort(), repair.output)
  assert.equal(ctx.homelab.nodes.nodes.map((n) => labNodeRestarts(n).length - restarts[ctx.homelab.nodes.nodes.indexOf(n)]!), [0, 1, 0])
  assert.ok(second!.records().hosts.includes(record))
  const again = await status(ctx)
  assert.is(again.code, 0, again.output)
  assert.not.match(again.output, /is held by/, again.output)
})

E2e('rotate-credentials --plan changes nothing anywhere: no Secret, no node file, no restart, no push or pull', async (ctx) => {
  const before = await footprint(ctx.homelab)
  const plan = await tool(ctx, 'tasks/rotate-credentials.ts', ['--plan'])
  assert.is(plan.code, 0, plan.output)
  assert.match(plan.output, /skipped +a pull with the new password on every node: --plan applies nothing, so nothing is pushed or pulled/)
  assert.not.match(plan.output, /(ok|changed) +(pull |push the node pull test image)/, plan.output)
  assert.match(plan.output, /changed +finish the rotation\n +~ delete Secret e2e-homelab-devtools\/registry-rotation/, plan.output)
  // Each node's file would get the new password: the plan shows it, masked, and the restart after it.
  const updates = plan.output.match(/~ update \S*registries\.yaml on /g) ?? []
  assert.is(updates.length, ctx.homelab.nodes.nodes.length, plan.output)
  assert.is((plan.output.match(/~ restart k3s/g) ?? []).length, ctx.homelab.nodes.nodes.length, plan.output)
  const after = await footprint(ctx.homelab)
  assert.equal(movedObjects(before, after), [])
  assert.equal([after.mtimes, after.restarts], [before.mtimes, before.restarts])
})

E2e('rotate-credentials interrupted at a read-only node fails there; the re-run finishes the same rotation on every node', async (ctx) => {
  const kube = kubeOf(ctx.homelab)
  const old = await storedSecretValueOf(kube, NS.registry, 'registry-credentials', 'admin')
  const stuck = ctx.homelab.nodes.nodes[2]!
  await setLabNodeFault(stuck, 'read-only')
  const first = await tool(ctx, 'tasks/rotate-credentials.ts', [])
  assert.is(first.code, 1, first.output)
  const pending = await storedSecretValueOf(kube, NS.tool, 'registry-rotation', 'next')
  assert.ok(pending && pending !== old, 'the rotation record keeps the new password')
  assert.is(await storedSecretValueOf(kube, NS.registry, 'registry-credentials', 'admin'), pending)
  assert.not.ok(readYaml(stuck).includes(pending!), 'the read-only node cannot have the new password yet')

  await setLabNodeFault(stuck, 'none')
  const second = await tool(ctx, 'tasks/rotate-credentials.ts', [])
  assert.is(second.code, 0, second.output)
  assert.match(second.output, /finishing the unfinished rotation/)
  assert.match(second.output, /ok\s+registry rejects the old password/)
  assert.is(await storedSecretValueOf(kube, NS.registry, 'registry-credentials', 'admin'), pending)
  assert.is(await storedSecretValueOf(kube, NS.tool, 'registry-rotation', 'next'), undefined)
  for (const n of ctx.homelab.nodes.nodes) assert.ok(readYaml(n).includes(pending!), `${n.host} has the new password`)
  for (const output of [first.output, second.output]) assert.not.ok(output.includes(pending!) || output.includes(old!), 'a password reached the output')
  const after = await pipeline(ctx)
  assert.equal(changedLines(after.output), [], after.output)
})

E2e('teardown --plan shows everything and changes nothing; teardown --yes removes all of ours and none of theirs', async (ctx) => {
  const kube = kubeOf(ctx.homelab)
  // A run that died holding its lock left it behind, expired: it is ours, and must not keep the tool's namespace alive.
  const past = new Date(Date.now() - 600_000)
  await acquireRunLock(kube, { namespace: NS.tool, name: 'dns', task: 'a run that died', ttlMs: 1000, now: () => past })
  // Someone else's Secret beside cert-manager's: only the one cert-manager issued for our Certificate goes.
  const otherKube = createKubeClient({ kubeconfigPath: ctx.homelab.lab.kubeconfigPath, fieldManager: 'someone-else' })
  await otherKube.apply({ apiVersion: 'v1', kind: 'Secret', metadata: { name: 'e2e-unrelated-ca', namespace: 'cert-manager' }, data: { a: 'Yg==' } }, { dryRun: false, force: true })
  assert.ok(await kube.get({ apiVersion: 'v1', kind: 'Secret', name: 'e2e-root-ca', namespace: 'cert-manager' }), 'cert-manager issued the CA Secret')
  // As a teardown stopped after deleting the Certificates leaves it: the root CA's Certificate gone, its Secret
  // (the CA's private key) still there, found now only through the config.
  await kube.delete({ apiVersion: 'cert-manager.io/v1', kind: 'Certificate', name: 'e2e-root-ca', namespace: 'cert-manager' })
  const before = await footprint(ctx.homelab)
  const plan = await tool(ctx, 'tasks/teardown.ts', ['--plan'])
  assert.is(plan.code, 0, plan.output)
  assert.match(plan.output, /delete Deployment e2e-registry\/registry/)
  assert.match(plan.output, /skipped\s+keep PersistentVolumeClaim e2e-registry\/registry-data/)
  assert.match(plan.output, /changed +remove Secret cert-manager\/e2e-root-ca/, plan.output)
  assert.equal(movedObjects(before, await footprint(ctx.homelab)), [])

  // A live run (here gc) holds the registry: teardown removes nothing under it, and says who holds what.
  const gc = await acquireRunLock(kube, { namespace: NS.tool, name: 'registry', task: 'registry gc' })
  const refused = await tool(ctx, 'tasks/teardown.ts', ['--yes'])
  await gc.release()
  assert.is(refused.code, 1, refused.output)
  assert.match(refused.output, new RegExp(`another run holds ${NS.tool}/run-lock-registry: registry gc on `))
  const afterRefusal = await footprint(ctx.homelab)
  assert.equal(movedObjects(before, afterRefusal), [])
  assert.equal([...afterRefusal.versions.keys()], [...before.versions.keys()])
  assert.equal([afterRefusal.piholeWrites, afterRefusal.mtimes, afterRefusal.restarts], [before.piholeWrites, before.mtimes, before.restarts])

  // A Pi-hole that fails once the plan is shown (a plan that fails starts nothing) stops the DNS part only: the rest
  // goes, and the tool's namespace keeps the ownership list that lets the next teardown find the records left on it.
  const down = ctx.homelab.piholes[1]!
  await down.setFault({ kind: 'status', status: 500, match: { method: 'DELETE' } })
  const partial = await tool(ctx, 'tasks/teardown.ts', ['--yes']).finally(() => down.setFault(undefined))
  assert.is(partial.code, 1, partial.output)
  assert.match(partial.output, /== teardown\n[^]*failed\s+dns records on pihole-2/, partial.output)
  // The deletes still wait for every node to be done (a K3s server's restart takes the API server down meanwhile).
  const applied = partial.output.slice(partial.output.indexOf('== teardown\n'))
  const lastNode = Math.max(...[...applied.matchAll(/\n\S+\s+node \S+: remove the registry trust/g)].map((m) => m.index!))
  assert.ok(lastNode > 0 && lastNode < applied.search(/\nchanged\s+delete Deployment /), applied)
  assert.is(await kube.get({ apiVersion: 'apps/v1', kind: 'Deployment', name: 'registry', namespace: NS.registry }), undefined, partial.output)
  assert.ok(await kube.get({ apiVersion: 'v1', kind: 'ConfigMap', name: 'dns-records', namespace: NS.tool }), partial.output)
  assert.ok(down.records().hosts.some((h) => h.includes(DOMAIN) && h !== FOREIGN_RECORD), 'the records on the Pi-hole that was down are still there')

  const run = await tool(ctx, 'tasks/teardown.ts', ['--yes'])
  assert.is(run.code, 0, run.output)
  for (const pihole of ctx.homelab.piholes) assert.not.ok(pihole.records().hosts.some((h) => h.includes(DOMAIN) && h !== FOREIGN_RECORD), pihole.url)
  assert.ok(ctx.homelab.piholes[0]!.records().hosts.includes(FOREIGN_RECORD))
  assert.is(readFileSync(yamlOf(ctx.homelab.nodes.nodes[0]!), 'utf8'), QUAY)
  for (const n of ctx.homelab.nodes.nodes.slice(1)) assert.throws(() => readYaml(n), /ENOENT/)
  const get = (apiVersion: string, kind: string, name: string, namespace?: string) => kube.get({ apiVersion, kind, name, ...(namespace ? { namespace } : {}) })
  assert.ok(await get('v1', 'Secret', 'foreign', NS.registry))
  assert.ok(await get('v1', 'ConfigMap', 'labelled-foreign', NS.registry))
  assert.ok(await get('v1', 'PersistentVolumeClaim', 'registry-data', NS.registry), 'data is kept without --delete-data')
  assert.is(await get('apps/v1', 'Deployment', 'registry', NS.registry), undefined)
  assert.is(await get('cert-manager.io/v1', 'ClusterIssuer', 'e2e-ca'), undefined)
  assert.is(await get('v1', 'ConfigMap', 'dns-records', NS.tool), undefined)
  assert.is(await get('v1', 'ConfigMap', 'run-lock-dns', NS.tool), undefined)
  const toolNamespace = await get('v1', 'Namespace', NS.tool)
  assert.ok(toolNamespace === undefined || toolNamespace.metadata.deletionTimestamp, `${NS.tool} is kept:\n${run.output}`)
  assert.is(await get('v1', 'Secret', 'e2e-root-ca', 'cert-manager'), undefined, run.output)
  assert.ok(await get('v1', 'Secret', 'e2e-unrelated-ca', 'cert-manager'))
  await otherKube.delete({ apiVersion: 'v1', kind: 'Secret', name: 'e2e-unrelated-ca', namespace: 'cert-manager' })
})

E2e.run()
