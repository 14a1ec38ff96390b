import { test } from 'uvu'
import * as assert from 'uvu/assert'
import { createReporter, parseConfig, runSteps, toolNamespace, type Component, type KubeClient, type KubeObject, type Step, type ToolContext } from '@homelab/core'
import { TrustMaterialError, TrustMaterialNotYetMadeError } from '@homelab/node-trust'
import { driftStep } from '../runbooks/drift-step.js'
import { statusSteps } from '../runbooks/status-steps.js'

const node = (name: string, address: string, ready: string): KubeObject => ({
  apiVersion: 'v1', kind: 'Node', metadata: { name },
  status: { addresses: [{ type: 'InternalIP', address }], conditions: [{ type: 'Ready', status: ready }] },
})

async function nodeHealth(nodes: KubeObject[], configured: Record<string, unknown>[]) {
  const config = parseConfig(JSON.stringify({ nodes: configured, dns: { piholes: [] } }), { sourceName: 'h.yaml', baseDir: '/tmp', env: {} })
  const kube = {
    list: async () => nodes,
    get: async (ref: { name: string }) => nodes.find((n) => n.metadata.name === ref.name),
  } as unknown as KubeClient
  const ctx = { config, kube: () => kube, acceptNewHostKeys: false } as unknown as ToolContext
  const nodeTrust = { name: 'node-trust', bootstrap: async () => [] } as unknown as Component
  let output = ''
  const result = await runSteps(await statusSteps(nodeTrust, ctx), { title: 'status', plan: true, reporter: createReporter({ json: false, out: { write: (s: string) => void (output += s) } }) })
  return { result, output }
}

test('status finds a Node configured by address only the way node-trust does: by status.addresses', async () => {
  const { result, output } = await nodeHealth([node('k3s-server-1', '192.168.4.10', 'True')], [{ host: '192.168.4.10' }])
  assert.equal([result.changed, result.failed], [0, 0], output)
  assert.match(output, /ok +health: Node 192\.168\.4\.10 Ready/)
})

test('a Node that is not Ready, or that no Node matches, is drift with the reason', async () => {
  const notReady = await nodeHealth([node('k3s-server-1', '192.168.4.10', 'False')], [{ host: '192.168.4.10' }])
  assert.is(notReady.result.changed, 1, notReady.output)
  assert.match(notReady.output, /Node k3s-server-1 is not Ready \(Ready=False\)/)
  const missing = await nodeHealth([node('k3s-server-1', '192.168.4.10', 'True')], [{ host: '192.168.4.99' }])
  assert.is(missing.result.changed, 1, missing.output)
  assert.match(missing.output, /no Node in the cluster has the address 192\.168\.4\.99/)
})

test('a failed full verify on record is drift, naming when and what failed; none on record is ok; an unreadable one fails', async () => {
  const config = parseConfig(JSON.stringify({ dns: { piholes: [] } }), { sourceName: 'h.yaml', baseDir: '/tmp', env: {} })
  const health = async (record: KubeObject | undefined | Error) => {
    const asked: unknown[] = []
    const kube = { get: async (ref: unknown) => (asked.push(ref), record instanceof Error ? Promise.reject(record) : record) } as unknown as KubeClient
    let output = ''
    const reporter = createReporter({ json: false, out: { write: (s: string) => void (output += s) } })
    const ctx = { config, kube: () => kube, reporter, acceptNewHostKeys: false } as unknown as ToolContext
    const steps = (await statusSteps({ ...toolNamespace, bootstrap: async () => [] }, ctx)).filter((s) => s.name.startsWith('health'))
    const result = await runSteps(steps, { title: 'status', plan: true, reporter })
    return { result, output, asked }
  }
  const record = { apiVersion: 'v1', kind: 'ConfigMap', metadata: { name: 'full-verify-failed', namespace: 'homelab-devtools' }, data: { at: '2026-11-28T04:00:00.000Z', steps: 'node-trust: pull on node1' } }
  const failed = await health(record)
  assert.is(failed.result.changed, 1, failed.output)
  assert.match(failed.output, /the last full verify failed \(2026-11-28T04:00:00\.000Z: node-trust: pull on node1\); `pnpm verify-all` checks again/)
  assert.equal(failed.asked, [{ apiVersion: 'v1', kind: 'ConfigMap', namespace: 'homelab-devtools', name: 'full-verify-failed' }])
  const passed = await health(undefined)
  assert.equal([passed.result.ok, passed.result.changed], [1, 0], passed.output)
  // Status must not call what it could not read converged: exit 1, not 0.
  const unreadable = await health(new Error('configmaps "full-verify-failed" is forbidden'))
  assert.equal([unreadable.result.ok, unreadable.result.failed], [0, 1], unreadable.output)
  assert.match(unreadable.output, /forbidden/)
})

test('what bootstrap would refuse (a DNS name someone else\'s record holds) fails the status check with its fix; other drift stays drift', async () => {
  const step = (changes: string[]): Step<null, string, null> => ({
    name: 'dns records on pihole-1',
    check: async () => null,
    desired: () => null,
    diff: () => changes,
    describe: (c) => ({ summary: c }),
    refusal: (cs) => (cs.includes('conflict') ? new Error('left 1 name(s) alone: run sync with --adopt to replace them') : undefined),
  })
  let output = ''
  const reporter = createReporter({ json: false, out: { write: (s: string) => void (output += s) } })
  const refused = await runSteps([driftStep(step(['add a record', 'conflict']))], { title: 'status', plan: true, reporter })
  assert.equal([refused.failed, refused.changed], [1, 0], output)
  assert.match(output, /--adopt/)
  const drift = await runSteps([driftStep(step(['add a record']))], { title: 'status', plan: true, reporter })
  assert.equal([drift.failed, drift.changed], [0, 1], output)
})

test('credentials or a CA the registry\'s bootstrap has yet to make are drift for node-trust; a config that names no user is an error', async () => {
  const failing = (error: Error): Step<null, never, null> => ({ name: 'node-trust n1', check: () => Promise.reject(error), desired: () => null, diff: () => [] })
  let output = ''
  const reporter = createReporter({ json: false, out: { write: (s: string) => void (output += s) } })
  const notYet = await runSteps([driftStep(failing(new TrustMaterialNotYetMadeError('no password for registry user admin: Secret registry/registry-credentials has no key admin')))], { title: 'status', plan: true, reporter })
  assert.equal([notYet.changed, notYet.failed], [1, 0], output)
  assert.match(output, /has no key admin: the registry's bootstrap makes it/)
  const config = await runSteps([driftStep(failing(new TrustMaterialError('registry.users is empty: there is no login to give the nodes')))], { title: 'status', plan: true, reporter })
  assert.equal([config.changed, config.failed], [0, 1], output)
})

test.run()
