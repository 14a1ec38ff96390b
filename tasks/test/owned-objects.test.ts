import { suite, test } from 'uvu'
import * as assert from 'uvu/assert'
import { createKubeClient, MANAGED_BY, type KubeClient } from '@homelab/core'
import { labOptionsFromEnv, reportHookErrors, useLab } from '@homelab/lab'
import { foreignObjectsIn, isForeign, namespacedListableKinds } from '../runbooks/owned-objects.js'

test('discovery: namespaced kinds that can be listed, once each, without subresources or metrics views', () => {
  const resource = (name: string, kind: string, namespaced: boolean, verbs = ['get', 'list']) => ({ name, singularName: '', kind, namespaced, verbs })
  const kinds = namespacedListableKinds([
    { kind: 'APIResourceList', groupVersion: 'v1', resources: [resource('pods', 'Pod', true), resource('pods/log', 'Pod', true), resource('nodes', 'Node', false), resource('bindings', 'Binding', true, ['create'])] },
    { kind: 'APIResourceList', groupVersion: 'batch/v1', resources: [resource('cronjobs', 'CronJob', true), resource('cronjobs/status', 'CronJob', true)] },
    { kind: 'APIResourceList', groupVersion: 'metrics.k8s.io/v1beta1', resources: [resource('pods', 'PodMetrics', true)] },
  ])
  assert.equal(kinds, [['v1', 'Pod'], ['batch/v1', 'CronJob']])
})

test('what a controller made for an owner judged in the namespace, Events and Endpoints are never a reason to keep it', () => {
  const object = (kind: string, metadata: Record<string, unknown> = {}) => ({ apiVersion: 'v1', kind, metadata: { name: 'x', namespace: 'ns', ...metadata } })
  const owned = object('Pod', { ownerReferences: [{ apiVersion: 'apps/v1', kind: 'ReplicaSet', name: 'r', uid: 'u' }] })
  assert.not.ok(isForeign(owned, 'homelab-devtools', new Set(['u'])), 'its owner is in the namespace and judged itself')
  assert.ok(isForeign(owned, 'homelab-devtools', new Set()), 'an owner not listed there (cluster-scoped, say) vouches for nothing')
  assert.not.ok(isForeign(object('Event'), 'homelab-devtools'))
  assert.not.ok(isForeign(object('Endpoints'), 'homelab-devtools'))
  assert.ok(isForeign(object('Pod'), 'homelab-devtools'))
})

type Ctx = { ours: KubeClient; theirs: KubeClient; ns: string }
const Lab = suite<Ctx>('teardown sees everything in a namespace', {} as Ctx)

Lab.before(reportHookErrors(async (ctx) => {
  const lab = await useLab(labOptionsFromEnv(process.env))
  ctx.ours = createKubeClient({ kubeconfigPath: lab.kubeconfigPath, fieldManager: 'homelab-devtools' })
  ctx.theirs = createKubeClient({ kubeconfigPath: lab.kubeconfigPath, fieldManager: 'someone-else' })
  ctx.ns = `owned-objects-${Date.now()}`
  await ctx.ours.apply({ apiVersion: 'v1', kind: 'Namespace', metadata: { name: ctx.ns, labels: { ...MANAGED_BY } } }, { dryRun: false, force: true })
}))

Lab.after(async (ctx) => {
  await ctx.ours?.delete({ apiVersion: 'v1', kind: 'Namespace', name: ctx.ns })
})

Lab('a Job, a NetworkPolicy and a ServiceAccount someone added are named; our own objects are not', async (ctx) => {
  const apply = (kube: KubeClient, object: Record<string, unknown>) => kube.apply(object as never, { dryRun: false, force: true })
  await apply(ctx.ours, { apiVersion: 'v1', kind: 'ConfigMap', metadata: { name: 'ours', namespace: ctx.ns, labels: { ...MANAGED_BY } }, data: { a: 'b' } })
  assert.equal(await foreignObjectsIn(ctx.ours, ctx.ns), [])
  const pod = { containers: [{ name: 'c', image: 'busybox' }], restartPolicy: 'OnFailure' }
  await apply(ctx.theirs, { apiVersion: 'batch/v1', kind: 'Job', metadata: { name: 'backup', namespace: ctx.ns }, spec: { template: { spec: pod } } })
  await apply(ctx.theirs, { apiVersion: 'networking.k8s.io/v1', kind: 'NetworkPolicy', metadata: { name: 'deny', namespace: ctx.ns }, spec: { podSelector: {} } })
  await apply(ctx.theirs, { apiVersion: 'v1', kind: 'ServiceAccount', metadata: { name: 'ci', namespace: ctx.ns } })
  const foreign = (await foreignObjectsIn(ctx.ours, ctx.ns)).sort()
  assert.equal(foreign, [`Job ${ctx.ns}/backup`, `NetworkPolicy ${ctx.ns}/deny`, `ServiceAccount ${ctx.ns}/ci`])
})

test.run()
Lab.run()
