import { readFileSync, rmSync, statSync, writeFileSync } from 'node:fs'
import { join } from 'node:path'
import { suite } from 'uvu'
import * as assert from 'uvu/assert'
import { parse } from 'yaml'
import { labNodeRestarts, reportHookErrors, type LabNode } from '@homelab/lab'
import { createKubeClient, type KubeClient } from '@homelab/core'
import { nodeTrust, REGISTRY_HOSTS_CONFIGMAP } from '../src/index.js'
import { runTool, startNodeTrustLab, writeConfig, type LabSetup, type NodeTrustLab } from './fixtures/node-trust-lab.js'

// 127.0.1.231–233: clear of the sync (.201–220) and faults (.221–227) suites.
const SETUP: LabSetup = { name: 'node-trust-rename', count: 3, firstIp: '127.0.1.231', registryIp: '127.0.2.203' }
// The tool's own namespace for this suite: the host record in it is what is under test, and no other suite shares it.
const TOOL_NAMESPACE = 'node-trust-rename-test'
const OLD = 'registry.homelab.local'
const NEW = 'registry.home.arpa'
const LATER = 'registry.lan.example'
const EDITED_NODE = 1

type Ctx = { env: NodeTrustLab; kube: KubeClient; configPath: string }

const Rename = suite<Ctx>('node-trust after the registry host is renamed', {} as Ctx)

const yamlOf = (node: LabNode) => join(node.etcRancher, 'k3s', 'registries.yaml')
const trusted = (node: LabNode) => parse(readFileSync(yamlOf(node), 'utf8')) as { mirrors?: Record<string, unknown>; configs?: Record<string, unknown> }
const hostsOn = (node: LabNode) => [...new Set([...Object.keys(trusted(node).mirrors ?? {}), ...Object.keys(trusted(node).configs ?? {})])].sort()
const restarts = (env: NodeTrustLab) => env.lab.nodes.map((n) => labNodeRestarts(n).length)
const mtimes = (env: NodeTrustLab) => env.lab.nodes.map((n) => statSync(yamlOf(n)).mtimeMs)
const recordRef = { apiVersion: 'v1', kind: 'ConfigMap', namespace: TOOL_NAMESPACE, name: REGISTRY_HOSTS_CONFIGMAP }
const recorded = async (ctx: Ctx) => (await ctx.kube.get(recordRef))?.['data'] as Record<string, string> | undefined
const resourceVersion = async (ctx: Ctx) => (await ctx.kube.get(recordRef))?.metadata['resourceVersion']

/** The lab's config with the registry under another domain (`registry` follows it) and this suite's tool namespace. */
function configFor(ctx: Ctx, domain: string): string {
  writeConfig(ctx.configPath, { ...SETUP, extraConfig: { domain, kubernetes: { kubeconfig: ctx.env.kubeconfigPath, namespace: TOOL_NAMESPACE } } }, ctx.env.lab, ctx.env.kubeconfigPath)
  return ctx.configPath
}

Rename.before(reportHookErrors(async (ctx) => {
  ctx.env = await startNodeTrustLab(SETUP)
  ctx.configPath = join(ctx.env.stateDir, 'rename.yaml')
  ctx.kube = createKubeClient({ kubeconfigPath: ctx.env.kubeconfigPath, fieldManager: 'node-trust-test' })
  await ctx.kube.apply({ apiVersion: 'v1', kind: 'Namespace', metadata: { name: TOOL_NAMESPACE } }, { dryRun: false, force: true })
  // Nodes and the record survive between runs of this file: start from "never synced".
  await ctx.kube.delete(recordRef)
  for (const node of ctx.env.lab.nodes) rmSync(join(node.etcRancher, 'k3s'), { recursive: true, force: true })
}))

Rename.after(async (ctx) => {
  await ctx.env?.stop()
})

Rename('a first sync trusts the old host on every node and records it', async (ctx) => {
  const run = await runTool(nodeTrust, 'bootstrap', configFor(ctx, 'homelab.local'))
  assert.is(run.code, 0, run.output)
  for (const node of ctx.env.lab.nodes) assert.equal(hostsOn(node), [OLD], node.host)
  assert.equal(await recorded(ctx), { hosts: `${OLD}\n` })
})

Rename('plan after the domain changed shows the old entries going, masked, and changes nothing', async (ctx) => {
  const [before, count, version] = [mtimes(ctx.env), restarts(ctx.env), await resourceVersion(ctx)]
  const run = await runTool(nodeTrust, 'plan', configFor(ctx, 'home.arpa'))
  assert.is(run.code, 0, run.output)
  assert.is(run.output.match(/restart k3s on /g)?.length, 3, run.output)
  assert.match(run.output, new RegExp(`-\\s+${OLD.replaceAll('.', '\\.')}:`), run.output)
  assert.not.ok(run.output.includes(ctx.env.password), 'the password is in the plan')
  assert.equal(mtimes(ctx.env), before)
  assert.equal(restarts(ctx.env), count)
  assert.is(await resourceVersion(ctx), version, 'plan wrote the record')
})

Rename('sync after the domain changed takes the old host off every node, restarting each once, and forgets it', async (ctx) => {
  const count = restarts(ctx.env)
  const run = await runTool(nodeTrust, 'bootstrap', configFor(ctx, 'home.arpa'))
  assert.is(run.code, 0, run.output)
  for (const node of ctx.env.lab.nodes) {
    assert.equal(hostsOn(node), [NEW], node.host)
    assert.not.ok(readFileSync(yamlOf(node), 'utf8').includes(OLD), `${node.host} still names ${OLD}`)
  }
  assert.equal(restarts(ctx.env).map((n, i) => n - count[i]!), [1, 1, 1])
  assert.equal(await recorded(ctx), { hosts: `${NEW}\n` })
})

Rename('a second sync reports changed=0, writes no node, restarts nothing and leaves the record alone', async (ctx) => {
  const [before, count, version] = [mtimes(ctx.env), restarts(ctx.env), await resourceVersion(ctx)]
  const run = await runTool(nodeTrust, 'bootstrap', configFor(ctx, 'home.arpa'))
  assert.is(run.code, 0, run.output)
  assert.match(run.output, /changed=0/)
  assert.equal(mtimes(ctx.env), before)
  assert.equal(restarts(ctx.env), count)
  assert.is(await resourceVersion(ctx), version)
})

Rename('an old entry edited by hand stays on its node with a warning, and its host stays recorded until it is gone', async (ctx) => {
  const node = ctx.env.lab.nodes[EDITED_NODE]!
  writeFileSync(yamlOf(node), readFileSync(yamlOf(node), 'utf8').replace(`- https://${NEW}`, `- https://${NEW}\n      - https://backup.lan`).replace(`[ https://${NEW} ]`, `[ https://${NEW}, https://backup.lan ]`), { mode: 0o600 })
  assert.match(readFileSync(yamlOf(node), 'utf8'), /backup\.lan/)
  const run = await runTool(nodeTrust, 'bootstrap', configFor(ctx, 'lan.example'))
  assert.is(run.code, 0, run.output)
  assert.match(run.output, new RegExp(`warning .*${node.host.replaceAll('.', '\\.')}: .* still has entries for ${NEW.replaceAll('.', '\\.')}`), run.output)
  ctx.env.lab.nodes.forEach((n, i) => assert.equal(hostsOn(n), i === EDITED_NODE ? [LATER, NEW].sort() : [LATER], n.host))
  assert.equal(await recorded(ctx), { hosts: `${NEW}\n${LATER}\n` })

  // Still there, still named; nothing else to do.
  const version = await resourceVersion(ctx)
  const again = await runTool(nodeTrust, 'bootstrap', ctx.configPath)
  assert.match(again.output, /changed=0/, again.output)
  assert.match(again.output, /still has entries for/)
  assert.is(await resourceVersion(ctx), version)

  // Put back as node-trust wrote it, the entry goes and the host with it.
  writeFileSync(yamlOf(node), readFileSync(yamlOf(node), 'utf8').replace(/,? ?\n?\s*-? ?https:\/\/backup\.lan/, ''), { mode: 0o600 })
  const cleaned = await runTool(nodeTrust, 'bootstrap', ctx.configPath)
  assert.is(cleaned.code, 0, cleaned.output)
  assert.equal(hostsOn(node), [LATER], readFileSync(yamlOf(node), 'utf8'))
  assert.equal(await recorded(ctx), { hosts: `${LATER}\n` })
})

Rename.run()
