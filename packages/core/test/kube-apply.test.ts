import { writeFileSync, mkdtempSync } from 'node:fs'
import { tmpdir } from 'node:os'
import { join } from 'node:path'
import { labOptionsFromEnv, useLab, reportHookErrors } from '@homelab/lab'
import { suite } from 'uvu'
import * as assert from 'uvu/assert'
import {
  ApplyConflictError,
  applyStep,
  createKubeClient,
  createReporter,
  KubeError,
  ObservedObjects,
  resolveSecretValues,
  runSteps,
  TimeoutError,
  waitFor,
  type KubeClient,
  type KubeObject,
} from '../src/index.js'

type Ctx = { kube: KubeClient; other: KubeClient; ns: string; kubeconfigPath: string }
const Kube = suite<Ctx>('kubernetes server-side apply', {} as Ctx)

const capture = () => {
  let buf = ''
  return { text: () => buf, out: { write: (s: string) => void (buf += s) } }
}
const run = async (kube: KubeClient, objects: KubeObject[], opts: { plan?: boolean; force?: boolean } = {}) => {
  const out = capture()
  const result = await runSteps(
    objects.map((o) => applyStep(kube, o, { force: opts.force ?? false })),
    { title: 'test', plan: opts.plan ?? false, reporter: createReporter({ json: false, out: out.out }) },
  )
  return { ...result, text: out.text() }
}
const configMap = (ns: string, data: Record<string, string>): KubeObject => ({ apiVersion: 'v1', kind: 'ConfigMap', metadata: { name: 'settings', namespace: ns }, data })
const rv = async (kube: KubeClient, o: KubeObject) => (await kube.get({ apiVersion: o.apiVersion, kind: o.kind, name: o.metadata.name, namespace: o.metadata.namespace! }))?.metadata.resourceVersion

Kube.before(reportHookErrors(async (ctx) => {
  const lab = await useLab(labOptionsFromEnv(process.env))
  ctx.kubeconfigPath = lab.kubeconfigPath
  ctx.kube = createKubeClient({ kubeconfigPath: lab.kubeconfigPath, fieldManager: 'homelab-devtools' })
  ctx.other = createKubeClient({ kubeconfigPath: lab.kubeconfigPath, fieldManager: 'someone-else' })
  ctx.ns = `apply-test-${Date.now()}`
  await run(ctx.kube, [{ apiVersion: 'v1', kind: 'Namespace', metadata: { name: ctx.ns } }])
}))

Kube.after(async (ctx) => {
  await ctx.kube.delete({ apiVersion: 'v1', kind: 'Namespace', name: ctx.ns })
})

Kube('applying the same object twice leaves resourceVersion unchanged and reports ok', async ({ kube, ns }) => {
  const cm = configMap(ns, { a: '1' })
  const first = await run(kube, [cm])
  const before = await rv(kube, cm)
  const second = await run(kube, [cm])
  assert.is(first.changed, 1)
  assert.is(second.changed, 0)
  assert.is(second.ok, 1)
  assert.is(await rv(kube, cm), before)
})

Kube('an apply that changes nothing leaves its read for one later look; one that changes the object leaves none', async ({ kube, ns }) => {
  const cm = { ...configMap(ns, { a: 'observed-1' }), metadata: { name: 'observed', namespace: ns } }
  const ref = { apiVersion: 'v1', kind: 'ConfigMap', name: 'observed', namespace: ns }
  const applyObserved = async (object: KubeObject, observed: ObservedObjects) =>
    runSteps([applyStep(kube, object, { force: false, observed })], { title: 'test', plan: false, reporter: createReporter({ json: false, out: capture().out }) })
  const created = new ObservedObjects()
  assert.is((await applyObserved(cm, created)).changed, 1)
  assert.is(created.take(ref), undefined, 'nothing was there to read before the create')
  const unchanged = new ObservedObjects()
  assert.is((await applyObserved(cm, unchanged)).changed, 0)
  const seen = unchanged.take(ref)
  assert.is(seen?.metadata.resourceVersion, await rv(kube, cm), 'the object as it is on the server')
  assert.equal(seen?.['data'], { a: 'observed-1' })
  assert.is(unchanged.take(ref), undefined, 'taken once: a wait that goes on reads again')
  const changed = new ObservedObjects()
  assert.is((await applyObserved({ ...cm, data: { a: 'observed-2' } }, changed)).changed, 1)
  assert.is(changed.take(ref), undefined, 'the read before the change holds the old state')
})

Kube('a changed field is reported changed with a diff naming the field', async ({ kube, ns }) => {
  await run(kube, [configMap(ns, { a: '1' })])
  const result = await run(kube, [configMap(ns, { a: '2' })])
  assert.is(result.changed, 1)
  assert.match(result.text, /update ConfigMap .*\/settings/)
  assert.match(result.text, /-\s+a: "1"/)
  assert.match(result.text, /\+\s+a: "2"/)
})

Kube('--plan shows the change and leaves the server untouched', async ({ kube, ns }) => {
  const cm = configMap(ns, { a: 'planned-base' })
  await run(kube, [cm])
  const before = await rv(kube, cm)
  const planned = await run(kube, [configMap(ns, { a: 'planned-new' })], { plan: true })
  assert.is(planned.changed, 1)
  assert.is(await rv(kube, cm), before)
  const stored = await kube.get({ apiVersion: 'v1', kind: 'ConfigMap', name: 'settings', namespace: ns })
  assert.equal(stored?.['data'], { a: 'planned-base' })
})

Kube('--plan of objects in a namespace that does not exist yet shows a create instead of failing', async ({ kube }) => {
  const planned = await run(kube, [configMap(`not-there-${Date.now()}`, { a: '1' })], { plan: true })
  assert.is(planned.failed, 0)
  assert.is(planned.changed, 1)
  assert.match(planned.text, /create ConfigMap/)
})

Kube('a field owned by another manager fails the step naming both managers and the field', async ({ kube, other, ns }) => {
  await run(kube, [configMap(ns, { a: 'ours' })])
  await other.apply(configMap(ns, { a: 'theirs' }), { dryRun: false, force: true })
  const result = await run(kube, [configMap(ns, { a: 'ours' })])
  assert.is(result.failed, 1)
  assert.match(result.text, /someone-else/)
  assert.match(result.text, /homelab-devtools/)
  assert.match(result.text, /\.data\.a/)
  assert.match(result.text, /--force-conflicts/)
  try {
    await kube.apply(configMap(ns, { a: 'ours' }), { dryRun: false, force: false })
    assert.unreachable('apply should conflict')
  } catch (e) {
    assert.instance(e, ApplyConflictError)
    assert.equal((e as ApplyConflictError).conflicts, [{ manager: 'someone-else', field: '.data.a' }])
  }
  const forced = await run(kube, [configMap(ns, { a: 'ours' })], { force: true })
  assert.is(forced.changed, 1)
  const stored = await kube.get({ apiVersion: 'v1', kind: 'ConfigMap', name: 'settings', namespace: ns })
  assert.equal(stored?.['data'], { a: 'ours' })
})

Kube('an optional kind whose CRD is absent is skipped with the reason', async ({ kube, ns }) => {
  const step = applyStep(kube, { apiVersion: 'example.homelab/v1', kind: 'Widget', metadata: { name: 'w', namespace: ns } }, { force: false, skipWhenKindMissing: 'the Widget CRD is not installed' })
  const out = capture()
  const result = await runSteps([step], { title: 't', plan: false, reporter: createReporter({ json: false, out: out.out }) })
  assert.is(result.skipped, 1)
  assert.match(out.text(), /skipped\s+apply Widget .*: the Widget CRD is not installed/)
})

Kube('a custom resource whose kind is also a built-in model (monitoring.coreos.com/v1 Probe) is sent and read whole', async ({ kube, ns }) => {
  const probe: KubeObject = {
    apiVersion: 'monitoring.coreos.com/v1',
    kind: 'Probe',
    metadata: { name: 'health', namespace: ns, labels: { app: 'x' } },
    spec: { interval: '30s', prober: { url: 'blackbox:9115' }, targets: { staticConfig: { static: ['https://x.lan/health'] } } },
  }
  const first = await run(kube, [probe])
  assert.is(first.failed, 0, first.text)
  const stored = await kube.get({ apiVersion: 'monitoring.coreos.com/v1', kind: 'Probe', name: 'health', namespace: ns })
  assert.is(stored?.apiVersion, 'monitoring.coreos.com/v1')
  assert.is(stored?.metadata.labels?.['app'], 'x')
  assert.equal((stored?.['spec'] as { targets?: unknown } | undefined)?.targets, probe['spec'] && (probe['spec'] as { targets: unknown }).targets)
  const listed = await kube.list('monitoring.coreos.com/v1', 'Probe', { namespace: ns })
  assert.equal(listed.map((p) => [p.metadata.name, (p['spec'] as { interval?: string }).interval]), [['health', '30s']])
  const second = await run(kube, [probe])
  assert.is(second.changed, 0, second.text)
})

Kube('an object in a namespace that does not exist fails naming the namespace, not a missing CRD', async ({ kube }) => {
  const ns = `missing-${Date.now().toString(36)}`
  const error = await kube.apply(configMap(ns, { a: '1' }), { dryRun: false, force: false }).then(() => undefined, (e: unknown) => e)
  assert.instance(error, KubeError)
  assert.match((error as KubeError).message, `namespace ${ns} does not exist: bootstrap makes it`)
  assert.not.match((error as KubeError).message, /CRD/)
})

Kube('generated secret values are made once and reused after the Secret is applied', async ({ kube, ns }) => {
  const ref = { apiVersion: 'v1', kind: 'Secret', name: 'creds', namespace: ns }
  const first = await resolveSecretValues(kube, ref, { admin: {} })
  assert.equal(first.generated, ['admin'])
  await run(kube, [first.object])
  const second = await resolveSecretValues(kube, ref, { admin: {} })
  assert.equal(second.generated, [])
  assert.ok(second.values['admin']!.equals(first.values['admin']!))
  const again = await run(kube, [second.object])
  assert.is(again.changed, 0)
})

Kube('an unreachable API server fails with the server named and what to check', async ({ ns }) => {
  const dir = mkdtempSync(join(tmpdir(), 'kubeconfig-'))
  const path = join(dir, 'config')
  writeFileSync(path, `apiVersion: v1\nkind: Config\nclusters: [{name: x, cluster: {server: "https://127.0.0.1:1", insecure-skip-tls-verify: true}}]\nusers: [{name: u, user: {token: t}}]\ncontexts: [{name: x, context: {cluster: x, user: u}}]\ncurrent-context: x\n`)
  const down = createKubeClient({ kubeconfigPath: path, fieldManager: 'homelab-devtools' })
  try {
    await down.get({ apiVersion: 'v1', kind: 'ConfigMap', name: 'x', namespace: ns })
    assert.unreachable('should fail')
  } catch (e) {
    assert.instance(e, KubeError)
    assert.match((e as Error).message, /https:\/\/127\.0\.0\.1:1/)
    assert.match((e as Error).message, /kubeconfig/)
  }
})

Kube('waitFor times out with what it waited for and what it last saw', async () => {
  try {
    await waitFor(async () => ({ done: false, seen: 'Ready=False (Issuing)' }), { what: 'Certificate registry/registry-tls Ready', timeoutMs: 300, intervalMs: 50 })
    assert.unreachable('should time out')
  } catch (e) {
    assert.instance(e, TimeoutError)
    assert.match((e as Error).message, /Certificate registry\/registry-tls Ready/)
    assert.match((e as Error).message, /Ready=False \(Issuing\)/)
  }
})

Kube.run()
