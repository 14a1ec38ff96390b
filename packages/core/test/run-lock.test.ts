import { labOptionsFromEnv, useLab, reportHookErrors } from '@homelab/lab'
import { suite } from 'uvu'
import * as assert from 'uvu/assert'
import { acquireRunLock, createKubeClient, createReporter, parseConfig, runComponents, RunLockedError, UNDER_PIPELINE_LOCK_ENV, type Component, type KubeClient, type ToolContext } from '../src/index.js'

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

Lock('a renewal whose answer was lost does not let the lock lapse; stillHeld says whether it is ours', async ({ kube, ns }) => {
  const lock = await acquireRunLock(kube, { namespace: ns, name: 'gc-renewal', task: 'registry gc', ttlMs: 3000 })
  const ref = { apiVersion: 'v1', kind: 'ConfigMap', namespace: ns, name: 'run-lock-gc-renewal' }
  try {
    // As a renewal that reached the server but whose answer never came back leaves it: a newer version, still ours.
    const current = (await kube.get(ref))!
    await kube.replace({ ...current, metadata: { ...current.metadata, annotations: { renewed: 'answer lost' } } })
    await new Promise((r) => setTimeout(r, 4000))
    assert.ok(await lock.stillHeld(), 'renewed on the version the server has, past the first expiry')
    // Someone took it over: no longer ours.
    const taken = (await kube.get(ref))!
    await kube.replace({ ...taken, data: { ...(taken['data'] as Record<string, string>), holder: 'someone else' } })
    assert.not.ok(await lock.stillHeld())
  } finally {
    await lock.release()
  }
  assert.ok(await kube.get(ref), 'a lock someone else holds is not released by us')
  await kube.delete(ref)
})

Lock('a lock taken over between release\'s read and its delete stays with the run that took it', async ({ kube, ns }) => {
  const ref = { apiVersion: 'v1', kind: 'ConfigMap', namespace: ns, name: 'run-lock-taken-over' }
  const other = 'the other run on elsewhere (pid 1)'
  // From `racing` on, each read of the lock is followed at once by another run writing its own holder (ours had
  // expired, say): what release reads is still ours, what it would delete no longer is.
  let racing = false
  const client: KubeClient = Object.assign(Object.create(kube) as KubeClient, {
    get: async (r: Parameters<KubeClient['get']>[0]) => {
      const read = await kube.get(r)
      if (racing && read && r.name === ref.name) await kube.replace({ ...read, data: { ...(read['data'] as Record<string, string>), holder: other } })
      return read
    },
  })
  const lock = await acquireRunLock(client, { namespace: ns, name: 'taken-over', task: 'dns sync' })
  racing = true
  await lock.release()
  const after = await kube.get(ref)
  assert.is((after?.['data'] as Record<string, string> | undefined)?.['holder'], other, 'the other run\'s lock was deleted')
  await kube.delete(ref)
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
  const ctx = { config, plan: false, reporter: createReporter({ json: false, out: { write: (s: string) => void (out += s) } }), signal: new AbortController().signal, env: {}, kube: () => kube } as unknown as ToolContext
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
  const ctx = { config, plan: false, reporter: createReporter({ json: false, out: { write: (s: string) => void (out += s) } }), signal: new AbortController().signal, env: {}, kube: () => kube } as unknown as ToolContext
  const held = await acquireRunLock(kube, { namespace: ns, name: 'first', task: 'the other pipeline' })
  try {
    const results = await runComponents([component('first'), component('second')], 'bootstrap', ctx)
    assert.equal(results.map((r) => [r.failed, r.skipped]), [[1, 0], [0, 1]])
    assert.equal(applied, [])
    assert.match(out, new RegExp(`skipped\\s+second bootstrap: another run holds ${ns}/run-lock-first; not started`))
  } finally {
    await held.release()
  }
})

const refusal = async (acquire: Promise<unknown>): Promise<string> => {
  try {
    await acquire
  } catch (e) {
    assert.instance(e, RunLockedError)
    return (e as Error).message
  }
  return assert.unreachable('the lock was granted') as never
}
const lockCm = (kube: KubeClient, ns: string, name: string) => kube.get({ apiVersion: 'v1', kind: 'ConfigMap', name: `run-lock-${name}`, namespace: ns })

Lock('while a pipeline holds its lock a component run on its own is refused, naming it, and leaves no lock behind', async ({ kube, ns }) => {
  const pipeline = await acquireRunLock(kube, { namespace: ns, name: 'pipeline', task: 'pnpm turbo bootstrap' })
  try {
    const message = await refusal(acquireRunLock(kube, { namespace: ns, name: 'dns', task: 'dns bootstrap' }))
    assert.match(message, new RegExp(`another run holds ${ns}/run-lock-pipeline: pnpm turbo bootstrap on \\S+ \\(pid \\d+\\)`))
    assert.is(await lockCm(kube, ns, 'dns'), undefined)
  } finally {
    await pipeline.release()
  }
  await (await acquireRunLock(kube, { namespace: ns, name: 'dns', task: 'dns bootstrap' })).release()
})

Lock('while a component run holds its lock a pipeline is refused, naming it, and leaves no lock behind', async ({ kube, ns }) => {
  const gc = await acquireRunLock(kube, { namespace: ns, name: 'registry', task: 'registry gc' })
  try {
    const message = await refusal(acquireRunLock(kube, { namespace: ns, name: 'pipeline', task: 'pnpm turbo bootstrap' }))
    assert.match(message, new RegExp(`another run holds ${ns}/run-lock-registry: registry gc on \\S+ \\(pid \\d+\\)`))
    assert.is(await lockCm(kube, ns, 'pipeline'), undefined)
  } finally {
    await gc.release()
  }
  await (await acquireRunLock(kube, { namespace: ns, name: 'pipeline', task: 'pnpm turbo bootstrap' })).release()
})

Lock('a lock of the other kind left by a run that died (expired) refuses nobody', async ({ kube, ns }) => {
  const dead = (name: string) => kube.create({
    apiVersion: 'v1', kind: 'ConfigMap', metadata: { name: `run-lock-${name}`, namespace: ns, labels: { 'app.kubernetes.io/managed-by': 'homelab-devtools' } },
    data: { holder: 'crashed run on elsewhere (pid 1)', acquiredAt: '2026-01-01T00:00:00.000Z', expiresAt: '2026-01-01T00:02:00.000Z' },
  })
  await dead('pipeline')
  await dead('localstack')
  await (await acquireRunLock(kube, { namespace: ns, name: 'dns', task: 'dns bootstrap' })).release()
  await (await acquireRunLock(kube, { namespace: ns, name: 'pipeline', task: 'pnpm turbo bootstrap' })).release()
  await kube.delete({ apiVersion: 'v1', kind: 'ConfigMap', name: 'run-lock-localstack', namespace: ns })
})

Lock('the components of a pipeline run under its lock: they take none of their own', async ({ kube, ns }) => {
  const config = parseConfig(`kubernetes:\n  namespace: ${ns}\n`, { sourceName: 'test.yaml', baseDir: '/', env: {} })
  const seen: unknown[] = []
  const component: Component = { name: 'registry', bootstrap: async () => [{ name: 'apply', check: async () => void seen.push(await lockCm(kube, ns, 'registry')), desired: () => 1, diff: () => [1], apply: async () => undefined }] }
  const pipeline = await acquireRunLock(kube, { namespace: ns, name: 'pipeline', task: 'pnpm turbo bootstrap' })
  try {
    const ctx = { config, plan: false, reporter: createReporter({ json: false, out: { write: () => true } }), signal: new AbortController().signal, env: { [UNDER_PIPELINE_LOCK_ENV]: pipeline.holder }, kube: () => kube } as unknown as ToolContext
    const [result] = await runComponents([component], 'bootstrap', ctx)
    assert.equal([result!.changed, result!.failed], [1, 0])
    assert.equal(seen, [undefined], 'a component under the pipeline took its own lock')
  } finally {
    await pipeline.release()
  }
})

Lock.run()
