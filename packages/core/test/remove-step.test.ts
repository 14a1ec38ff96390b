import { labOptionsFromEnv, reportHookErrors, useLab } from '@homelab/lab'
import { suite } from 'uvu'
import * as assert from 'uvu/assert'
import { applyStep, createKubeClient, createReporter, issuedForNames, removeStep, runSteps, type KubeClient, type KubeObject, type ObjectRef } from '../src/index.js'

type Ctx = { ours: KubeClient; theirs: KubeClient; ns: string }
const Remove = suite<Ctx>('removing what the config no longer asks for', {} as Ctx)

const run = async (kube: KubeClient, ref: ObjectRef, plan = false) => {
  let text = ''
  const result = await runSteps([removeStep(kube, ref, { because: 'test.enabled is false' })], { title: 't', plan, reporter: createReporter({ json: false, out: { write: (s: string) => void (text += s) } }) })
  return { ...result, text }
}

Remove.before(reportHookErrors(async (ctx) => {
  const lab = await useLab(labOptionsFromEnv(process.env))
  ctx.ours = createKubeClient({ kubeconfigPath: lab.kubeconfigPath, fieldManager: 'homelab-devtools' })
  ctx.theirs = createKubeClient({ kubeconfigPath: lab.kubeconfigPath, fieldManager: 'someone-else' })
  ctx.ns = `remove-step-${Date.now()}`
  await ctx.ours.apply({ apiVersion: 'v1', kind: 'Namespace', metadata: { name: ctx.ns } }, { dryRun: false, force: true })
}))

Remove.after(async (ctx) => {
  await ctx.ours?.delete({ apiVersion: 'v1', kind: 'Namespace', name: ctx.ns })
})

Remove('ours: --plan shows the delete and keeps it; the run deletes it; the next run changes nothing', async (ctx) => {
  const ref = { apiVersion: 'v1', kind: 'ConfigMap', namespace: ctx.ns, name: 'ui' }
  await runSteps([applyStep(ctx.ours, { ...ref, metadata: { name: ref.name, namespace: ctx.ns }, data: { a: 'b' } } as never, { force: false })], { title: 't', plan: false, reporter: createReporter({ json: false, out: { write: () => undefined } }) })
  const plan = await run(ctx.ours, ref, true)
  assert.match(plan.text, /delete ConfigMap remove-step-\d+\/ui \(test\.enabled is false\)/)
  assert.ok(await ctx.ours.get(ref))
  const removed = await run(ctx.ours, ref)
  assert.is(removed.changed, 1, removed.text)
  assert.is(await ctx.ours.get(ref), undefined)
  assert.is((await run(ctx.ours, ref)).changed, 0)
})

Remove('someone else\'s object under that name is left, with a warning; a kind the server lacks is nothing to do', async (ctx) => {
  const ref = { apiVersion: 'v1', kind: 'ConfigMap', namespace: ctx.ns, name: 'theirs' }
  await ctx.theirs.apply({ apiVersion: 'v1', kind: 'ConfigMap', metadata: { name: 'theirs', namespace: ctx.ns, labels: { 'app.kubernetes.io/managed-by': 'homelab-devtools' } }, data: { a: 'b' } }, { dryRun: false, force: true })
  const left = await run(ctx.ours, ref)
  assert.is(left.changed, 0)
  assert.is(left.failed, 0)
  assert.match(left.text, /ConfigMap remove-step-\d+\/theirs is there but was not made by this tool: left alone/)
  assert.ok(await ctx.ours.get(ref))
  const noKind = await run(ctx.ours, { apiVersion: 'example.invalid/v1', kind: 'Widget', namespace: ctx.ns, name: 'w' })
  assert.equal([noKind.changed, noKind.failed], [0, 0], noKind.text)
})

Remove('skipWhenAbsent: a feature that is off and left nothing behind says so, skipped; one that left ours is removed', async (ctx) => {
  const ref = { apiVersion: 'v1', kind: 'ConfigMap', namespace: ctx.ns, name: 'route' }
  let text = ''
  const step = () => removeStep(ctx.ours, ref, { because: 'x is false', name: 'thing route', skipWhenAbsent: 'x is false: no route' })
  const runIt = () => runSteps([step()], { title: 't', plan: false, reporter: createReporter({ json: false, out: { write: (s: string) => void (text += s) } }) })
  const absent = await runIt()
  assert.equal([absent.skipped, absent.changed], [1, 0])
  assert.match(text, /skipped +thing route: x is false: no route/)
  await ctx.ours.apply({ apiVersion: 'v1', kind: 'ConfigMap', metadata: { name: 'route', namespace: ctx.ns, labels: { 'app.kubernetes.io/managed-by': 'homelab-devtools' } }, data: {} }, { dryRun: false, force: true })
  const removed = await runIt()
  assert.equal([removed.skipped, removed.changed], [0, 1])
  assert.is(await ctx.ours.get(ref), undefined)
})

Remove.run()

const Names = suite('a cert-manager Secret whose Certificate is gone is ours only if issued for our names')
const issued = (annotations: Record<string, string>): KubeObject => ({ apiVersion: 'v1', kind: 'Secret', metadata: { name: 'x-tls', namespace: 'x', annotations } })
const alt = (names: string) => ({ 'cert-manager.io/alt-names': names })
const cases: [string, Record<string, string>, string[], string | undefined, boolean][] = [
  ['the same names, in another order', alt('b.lan,a.lan'), ['a.lan', 'b.lan'], undefined, true],
  ['more names than ours asks now (the config dropped one)', alt('a.lan,*.s3.a.lan'), ['a.lan'], undefined, true],
  ['other names: someone else\'s Certificate of that name', alt('aws.example.org'), ['a.lan'], undefined, false],
  ['only some of ours', alt('a.lan'), ['a.lan', 'b.lan'], undefined, false],
  ['no names on record', {}, ['a.lan'], undefined, false],
  ['a CA (no DNS names): the same common name', { ...alt(''), 'cert-manager.io/common-name': 'homelab root CA' }, [], 'homelab root CA', true],
  ['a CA: another common name', { ...alt(''), 'cert-manager.io/common-name': 'their CA' }, [], 'homelab root CA', false],
  ['ours asks for no names at all', { 'cert-manager.io/common-name': '' }, [], undefined, false],
]
for (const [name, annotations, dnsNames, commonName, expected] of cases) Names(name, () => assert.is(issuedForNames(issued(annotations), { dnsNames, commonName }), expected))
Names.run()
