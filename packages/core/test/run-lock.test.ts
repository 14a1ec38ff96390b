import { labOptionsFromEnv, useLab, reportHookErrors } from '@homelab/lab'
import { suite } from 'uvu'
import * as assert from 'uvu/assert'
import { acquireRunLock, createKubeClient, createReporter, parseConfig, runComponents, RunLockedError, type Component, type KubeClient, type ToolContext } from '../src/index.js'

type Ctx = { kube: KubeClient; ns: string }
const Lock = suite<Ctx>('run lock', {} as Ctx)

Lock.before(reportHookErrors(async (ctx) => {
  const lab = await useLab(labOptionsFromEnv(process.env))
  ctx.kube = createKubeClient({ kubeconfigPath: lab.kubeconfigPath, fieldManager: 'homelab-devtools' })
  ctx.ns = `lock-test-${Date.now()}`
}))

Lock.after(async ({ kube, ns }) => {
  await kube.delete({ apiVersion: 'v1', kind: 'Namespace', name: ns })
})

Lock('the first run creates the namespace if needed and a second run is refused naming the holder', async ({ kube, ns }) => {
  const first = await acquireRunLock(kube, { namespace: ns, name: 'registry', task: 'registry bootstrap' })
  try {
    await acquireRunLock(kube, { namespace: ns, name: 'registry', task: 'registry bootstrap' })
    assert.unreachable('second lock should be refused')
  } catch (e) {
    assert.instance(e, RunLockedError)
    assert.match((e as Error).message, /another run holds .*run-lock-registry: registry bootstrap on .* \(pid \d+\)/)
    assert.match((e as Error).message, /expires at/)
  }
  await first.release()
  const again = await acquireRunLock(kube, { namespace: ns, name: 'registry', task: 'registry bootstrap' })
  await again.release()
})

Lock('locks are per component: dns and localstack can converge side by side', async ({ kube, ns }) => {
  const a = await acquireRunLock(kube, { namespace: ns, name: 'dns', task: 'dns bootstrap' })
  const b = await acquireRunLock(kube, { namespace: ns, name: 'localstack', task: 'localstack bootstrap' })
  await a.release()
  await b.release()
})

Lock('an expired lock left by a run that died is taken over', async ({ kube, ns }) => {
  const past = () => new Date(Date.now() - 10 * 60_000)
  await acquireRunLock(kube, { namespace: ns, name: 'node-trust', task: 'crashed run', ttlMs: 1000, now: past })
  const taken = await acquireRunLock(kube, { namespace: ns, name: 'node-trust', task: 'node-trust bootstrap' })
  const cm = await kube.get({ apiVersion: 'v1', kind: 'ConfigMap', name: 'run-lock-node-trust', namespace: ns })
  assert.match((cm?.['data'] as Record<string, string>)['holder']!, /^node-trust bootstrap/)
  await taken.release()
})

Lock('two bootstraps at once: the second fails its component with the lock message and applies nothing', async ({ kube, ns }) => {
  const config = parseConfig(`kubernetes:\n  namespace: ${ns}\n`, { sourceName: 'test.yaml', baseDir: '/', env: {} })
  let applied = 0
  const component: Component = { name: 'registry', bootstrap: async () => [{ name: 'apply', check: async () => null, desired: () => 1, diff: () => [1], apply: async () => void applied++ }] }
  let out = ''
  const ctx = { config, plan: false, reporter: createReporter({ json: false, out: { write: (s: string) => void (out += s) } }), signal: new AbortController().signal, kube: () => kube } as unknown as ToolContext
  const held = await acquireRunLock(kube, { namespace: ns, name: 'registry', task: 'the other bootstrap' })
  const [result] = await runComponents([component], 'bootstrap', ctx)
  await held.release()
  assert.is(result!.failed, 1)
  assert.is(applied, 0)
  assert.match(out, /failed\s+registry run lock\n\s+another run holds .*the other bootstrap/)
  const [second] = await runComponents([component], 'bootstrap', ctx)
  assert.is(second!.failed, 0)
  assert.is(applied, 1)
})

Lock('a run refused by one lock does not go on to the next components, so two runs never interleave', async ({ kube, ns }) => {
  const config = parseConfig(`kubernetes:\n  namespace: ${ns}\n`, { sourceName: 'test.yaml', baseDir: '/', env: {} })
  const applied: string[] = []
  const component = (name: string): Component => ({ name, bootstrap: async () => [{ name: `apply ${name}`, check: async () => null, desired: () => 1, diff: () => [1], apply: async () => void applied.push(name) }] })
  let out = ''
  const ctx = { config, plan: false, reporter: createReporter({ json: false, out: { write: (s: string) => void (out += s) } }), signal: new AbortController().signal, kube: () => kube } as unknown as ToolContext
  const held = await acquireRunLock(kube, { namespace: ns, name: 'first', task: 'the other pipeline' })
  try {
    const results = await runComponents([component('first'), component('second')], 'bootstrap', ctx)
    assert.equal(results.map((r) => [r.failed, r.skipped]), [[1, 0], [0, 1]])
    assert.equal(applied, [])
    assert.match(out, /skipped\s+second bootstrap: another run holds the first lock; not started/)
  } finally {
    await held.release()
  }
})

Lock.run()
