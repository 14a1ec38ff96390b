import { existsSync, mkdirSync, readFileSync, rmSync, statSync, writeFileSync } from 'node:fs'
import { join } from 'node:path'
import { suite } from 'uvu'
import * as assert from 'uvu/assert'
import { labNodeRestarts, type LabNode, reportHookErrors, sampleProcessArgv } from '@homelab/lab'
import { createNodeTrust, nodeTrust } from '../src/index.js'
import { dropHostRecord, runTool, startNodeTrustLab, TEST_IMAGE, type NodeTrustLab } from './fixtures/node-trust-lab.js'

// 127.0.1.201–220: clear of ssh.test.ts (.101+) and the demo (.1+); the registry gets its own address too.
const SETUP = { name: 'node-trust-sync', count: 20, firstIp: '127.0.1.201', registryIp: '127.0.2.201' }
const QUAY_NODE = 2
const QUAY_FILE = '# kept by hand: our quay cache\nmirrors:\n  quay.io:\n    endpoint:\n      - https://quay-cache.lan\n'

type Ctx = { env: NodeTrustLab; restartsBefore: number[]; mtimes: number[] }

const Sync = suite<Ctx>('node-trust sync over twenty lab nodes', {} as Ctx)

const yamlOf = (node: LabNode) => join(node.etcRancher, 'k3s', 'registries.yaml')
const caOf = (node: LabNode) => join(node.etcRancher, 'k3s', 'registry-ca.crt')

Sync.before(reportHookErrors(async (ctx) => {
  ctx.env = await startNodeTrustLab(SETUP)
  // Nodes are reused between runs: start every one from "never synced".
  for (const node of ctx.env.lab.nodes) rmSync(join(node.etcRancher, 'k3s'), { recursive: true, force: true })
  await dropHostRecord(ctx.env.kubeconfigPath)
  const quay = ctx.env.lab.nodes[QUAY_NODE]!
  mkdirSync(join(quay.etcRancher, 'k3s'), { recursive: true })
  writeFileSync(yamlOf(quay), QUAY_FILE, { mode: 0o600 })
  ctx.restartsBefore = ctx.env.lab.nodes.map((n) => labNodeRestarts(n).length)
}))

Sync.after(async (ctx) => {
  await ctx.env?.stop()
})

Sync('plan shows every node’s diff and restart with the password masked, and writes nothing', async ({ env }) => {
  const run = await runTool(nodeTrust, 'plan', env.configPath)
  assert.is(run.code, 0, run.output)
  assert.is(run.output.match(/restart k3s on /g)?.length, 20, run.output)
  assert.match(run.output, /password: "\*\*\*\*"/)
  assert.not.ok(run.output.includes(env.password), 'the password is in the plan output')
  assert.not.ok(existsSync(yamlOf(env.lab.nodes[0]!)))
  assert.is(readFileSync(yamlOf(env.lab.nodes[QUAY_NODE]!), 'utf8'), QUAY_FILE)
})

Sync('first sync records the registry host, writes twenty files and restarts each node once, one at a time', async (ctx) => {
  const { env } = ctx
  const sampler = sampleProcessArgv()
  const run = await runTool(nodeTrust, 'bootstrap', env.configPath)
  const { samples, seen } = sampler.stop()
  assert.is(run.code, 0, run.output)
  // The twenty nodes and the record of the registry host they were given.
  assert.match(run.output, /changed=21/)
  assert.match(run.output, /changed\s+node-trust: record the registry host/)
  for (const node of env.lab.nodes) {
    assert.is(statSync(yamlOf(node)).mode & 0o777, 0o600)
    assert.ok(readFileSync(caOf(node)).equals(env.registry.caPem), `${node.host}: CA`)
    assert.ok(readFileSync(yamlOf(node), 'utf8').includes(env.password), `${node.host}: password in registries.yaml`)
  }
  const restarts = env.lab.nodes.map((n, i) => labNodeRestarts(n).slice(ctx.restartsBefore[i]))
  assert.equal(restarts.map((r) => r.length), env.lab.nodes.map(() => 1))
  const spans = restarts.map((r) => r[0]!).sort((a, b) => a.start.getTime() - b.start.getTime())
  spans.slice(1).forEach((span, i) => assert.ok(span.start >= spans[i]!.end, `restart ${i + 1} started before restart ${i} ended`))
  assert.ok(spans.every((s) => s.outcome === 'ready'))
  assert.ok(samples > 50, `only ${samples} samples`)
  assert.ok([...seen].some((c) => c.includes('lab-node-program.ts') && c.includes('systemctl')), 'the sampler saw the node side')
  assert.not.ok([...seen].some((c) => c.includes(env.password)), 'the registry password appeared in a command line')
  assert.not.ok(run.output.includes(env.password), 'the registry password appeared in the output')
  ctx.mtimes = env.lab.nodes.map((n) => statSync(yamlOf(n)).mtimeMs)
})

Sync('a node with its own quay.io mirror and a comment keeps both', ({ env }) => {
  const text = readFileSync(yamlOf(env.lab.nodes[QUAY_NODE]!), 'utf8')
  assert.ok(text.startsWith('# kept by hand: our quay cache\nmirrors:\n  quay.io:\n    endpoint:\n      - https://quay-cache.lan\n'), text)
  assert.match(text, /registry\.homelab\.local:\n\s+endpoint: \[ https:\/\/registry\.homelab\.local \]/)
})

Sync('containerd on each node got the hosts.toml and auth K3s would render', ({ env }) => {
  const node = env.lab.nodes[0]!
  const hosts = readFileSync(join(node.varLibRancher, 'k3s/agent/etc/containerd/certs.d/registry.homelab.local/hosts.toml'), 'utf8')
  assert.match(hosts, /\[host\."https:\/\/registry\.homelab\.local"\]\n  capabilities = \["pull", "resolve"\]\n  ca = "\/etc\/rancher\/k3s\/registry-ca\.crt"/)
  const config = join(node.varLibRancher, 'k3s/agent/etc/containerd/config.toml')
  assert.is(statSync(config).mode & 0o777, 0o600)
})

Sync('second sync reports changed=0, rewrites no file and restarts nothing', async (ctx) => {
  const { env } = ctx
  const counts = env.lab.nodes.map((n) => labNodeRestarts(n).length)
  const run = await runTool(nodeTrust, 'bootstrap', env.configPath)
  assert.is(run.code, 0, run.output)
  assert.match(run.output, /changed=0/)
  assert.equal(env.lab.nodes.map((n) => statSync(yamlOf(n)).mtimeMs), ctx.mtimes)
  assert.equal(env.lab.nodes.map((n) => labNodeRestarts(n).length), counts)
})

Sync('verify pulls the test image through CRI on every node', async ({ env }) => {
  const sampler = sampleProcessArgv()
  const run = await runTool(createNodeTrust({ testImage: TEST_IMAGE }), 'verify', env.configPath)
  const { seen } = sampler.stop()
  assert.is(run.code, 0, run.output)
  assert.match(run.output, /ok=20/)
  assert.ok([...seen].some((c) => c.includes('crictl pull')), 'the sampler saw the pulls')
  assert.not.ok([...seen].some((c) => c.includes(env.password)), 'the registry password appeared in a command line')
})

Sync('the password is in no log the nodes or the tool wrote', ({ env }) => {
  for (const node of env.lab.nodes) {
    for (const log of [join(node.dir, 'sshd.log'), node.restartLog, join(node.varLibRancher, 'k3s/agent/containerd/containerd.log')]) {
      if (existsSync(log)) assert.not.ok(readFileSync(log, 'utf8').includes(env.password), `password in ${log}`)
    }
  }
})

Sync.run()
