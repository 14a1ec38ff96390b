import { createKubeClient } from '@homelab/core'
import { labOptionsFromEnv, useLab, reportHookErrors } from '@homelab/lab'
import { suite } from 'uvu'
import * as assert from 'uvu/assert'
import { bootstrapWithoutWait, labContext, settled, testNamespace, type LabCtx } from './lab-run.js'

type Ctx = LabCtx
const Bootstrap = suite<Ctx>('localstack bootstrap against the lab API server', { kubeconfig: '', namespaces: [] })

const TOKEN = 'ls-bootstrap-test-token-51d0e2'



Bootstrap.before(reportHookErrors(async (ctx) => {
  ctx.kubeconfig = (await useLab(labOptionsFromEnv(process.env))).kubeconfigPath
}))

Bootstrap.after(async (ctx) => {
  const { tool } = labContext(ctx, {})
  // The lab runs no namespace controller: a deleted namespace keeps its objects, and the lab kubelet their pods.
  for (const name of ctx.namespaces) {
    await tool.kube().delete({ apiVersion: 'apps/v1', kind: 'Deployment', namespace: name, name: 'localstack' })
    await tool.kube().delete({ apiVersion: 'v1', kind: 'Namespace', name })
  }
})

Bootstrap('a second bootstrap reports changed=0 and moves no resourceVersion', async (ctx) => {
  const { tool, output } = labContext(ctx, { namespace: testNamespace(ctx, 'twice') })
  const first = await bootstrapWithoutWait(tool)
  assert.is(first.failed, 0, output())
  assert.ok(first.changed >= 6, output())
  const ref = { apiVersion: 'apps/v1', kind: 'Deployment', namespace: tool.config.localstack.namespace, name: 'localstack' }
  await settled(tool)
  // generation, not resourceVersion: the lab kubelet may write status; only a spec change moves the generation.
  const before = (await tool.kube().get(ref))?.metadata['generation']
  const second = await bootstrapWithoutWait(tool)
  assert.is(second.changed, 0, output())
  assert.is(second.failed, 0, output())
  assert.is((await tool.kube().get(ref))?.metadata['generation'], before)
  assert.match(output(), /skipped\s+localstack health probe: no localstack.probe.blackboxExporter configured/)
})

Bootstrap('community mode says once that 4.14.0 gets no updates and how to switch', async (ctx) => {
  const { tool, output } = labContext(ctx, { namespace: testNamespace(ctx, 'notice') })
  await bootstrapWithoutWait(tool)
  assert.is(output().match(/gets no more updates/g)?.length, 1)
  assert.match(output(), /localstack\.edition: token/)
})

Bootstrap('token mode stores the token in a Secret, the pod reads it by secretKeyRef, and the output never shows it', async (ctx) => {
  const { tool, output } = labContext(ctx, { namespace: testNamespace(ctx, 'token'), edition: 'token', image: 'localstack/localstack:2026.07.0', authToken: TOKEN })
  const first = await bootstrapWithoutWait(tool)
  await settled(tool)
  const second = await bootstrapWithoutWait(tool)
  assert.is(first.failed, 0, output())
  assert.is(second.changed, 0, output())
  const ns = tool.config.localstack.namespace
  const deployment = await tool.kube().get({ apiVersion: 'apps/v1', kind: 'Deployment', namespace: ns, name: 'localstack' })
  const env = (deployment?.['spec'] as { template: { spec: { containers: { name: string; env: { name: string; value?: string; valueFrom?: unknown }[] }[] } } }).template.spec.containers[0]!.env
  const token = JSON.parse(JSON.stringify(env.find((e) => e.name === 'LOCALSTACK_AUTH_TOKEN')))
  assert.equal(token, { name: 'LOCALSTACK_AUTH_TOKEN', valueFrom: { secretKeyRef: { key: 'token', name: 'localstack-auth-token' } } })
  assert.not.ok(JSON.stringify(deployment).includes(TOKEN))
  const secret = await tool.kube().get({ apiVersion: 'v1', kind: 'Secret', namespace: ns, name: 'localstack-auth-token' })
  assert.is(Buffer.from((secret?.['data'] as { token: string }).token, 'base64').toString(), TOKEN)
  assert.not.ok(output().includes(TOKEN), 'the token must never be printed')
  assert.not.ok(output().includes(Buffer.from(TOKEN).toString('base64')), 'nor its base64')
})

Bootstrap('a new auth token rolls the Deployment; the same token again reports changed=0', async (ctx) => {
  const ns = testNamespace(ctx, 'rotate')
  const withToken = (authToken: string) => labContext(ctx, { namespace: ns, edition: 'token', image: 'localstack/localstack:2026.07.0', authToken })
  const first = withToken(TOKEN)
  assert.is((await bootstrapWithoutWait(first.tool)).failed, 0, first.output())
  await settled(first.tool)
  const ref = { apiVersion: 'apps/v1', kind: 'Deployment', namespace: ns, name: 'localstack' }
  const before = (await first.tool.kube().get(ref))?.metadata['generation']
  const rotated = withToken(`${TOKEN}-rotated`)
  const changed = await bootstrapWithoutWait(rotated.tool)
  assert.is(changed.failed, 0, rotated.output())
  assert.is(changed.results.find((r) => r.step === 'localstack deployment')?.status, 'changed', rotated.output())
  assert.is.not((await rotated.tool.kube().get(ref))?.metadata['generation'], before, 'the pod template did not change')
  await settled(rotated.tool)
  const again = withToken(`${TOKEN}-rotated`)
  assert.is((await bootstrapWithoutWait(again.tool)).changed, 0, again.output())
  for (const run of [first, rotated, again]) assert.not.ok(run.output().includes(TOKEN), 'the token must never be printed')
})

Bootstrap('back to community, and virtual-host S3 off: the token Secret and the extra route bootstrap made are removed', async (ctx) => {
  const ns = testNamespace(ctx, 'retire')
  const before = labContext(ctx, { namespace: ns, edition: 'token', image: 'localstack/localstack:2026.07.0', authToken: TOKEN, s3: { virtualHostStyle: true } })
  assert.is((await bootstrapWithoutWait(before.tool)).failed, 0, before.output())
  const secret = { apiVersion: 'v1', kind: 'Secret', namespace: ns, name: 'localstack-auth-token' }
  const route = { apiVersion: 'traefik.io/v1alpha1', kind: 'IngressRoute', namespace: ns, name: 'localstack-s3-virtual-host' }
  assert.ok(await before.tool.kube().get(secret))
  assert.ok(await before.tool.kube().get(route))
  await settled(before.tool)
  const after = labContext(ctx, { namespace: ns })
  const run = await bootstrapWithoutWait(after.tool)
  assert.is(run.failed, 0, after.output())
  assert.equal(['localstack auth token secret', 'localstack s3 virtual-host route'].map((step) => run.results.find((r) => r.step === step)?.status), ['changed', 'changed'], after.output())
  assert.is(await after.tool.kube().get(secret), undefined, 'the token is no longer in the cluster')
  assert.is(await after.tool.kube().get(route), undefined)
  await settled(after.tool)
  const again = labContext(ctx, { namespace: ns })
  const third = await bootstrapWithoutWait(again.tool)
  assert.is(third.changed, 0, again.output())
  assert.match(again.output(), /skipped\s+localstack auth token secret: community edition: no token/)
  assert.match(again.output(), /skipped\s+localstack s3 virtual-host route: path-style S3/)
})

Bootstrap('a state claim of another size names localstack.storage and how to move, and nothing is asked of the API server', async (ctx) => {
  const ns = testNamespace(ctx, 'pvc')
  const { tool, output } = labContext(ctx, { namespace: ns })
  const earlier = createKubeClient({ kubeconfigPath: ctx.kubeconfig, fieldManager: 'earlier-install' })
  await earlier.apply({ apiVersion: 'v1', kind: 'Namespace', metadata: { name: ns } }, { dryRun: false, force: false })
  await earlier.apply({ apiVersion: 'v1', kind: 'PersistentVolumeClaim', metadata: { name: 'localstack-state', namespace: ns }, spec: { accessModes: ['ReadWriteOnce'], storageClassName: 'local-path', resources: { requests: { storage: '1Gi' } } } }, { dryRun: false, force: false })
  const run = await bootstrapWithoutWait(tool)
  const failure = run.results.find((r) => r.step === 'localstack state volume')
  assert.is(failure?.status, 'failed', output())
  assert.match(failure!.error!, /exists with 1Gi on storage class "local-path", but config asks for/)
  assert.match(failure!.error!, /recreating it would delete LocalStack's persisted state/)
  assert.match(failure!.error!, /set localstack\.storage\.size and localstack\.storage\.storageClass to what exists/)
  assert.is(run.results.find((r) => r.step === 'localstack deployment')?.status, 'skipped')
  const stored = await tool.kube().get({ apiVersion: 'v1', kind: 'PersistentVolumeClaim', namespace: ns, name: 'localstack-state' })
  assert.not.ok(stored?.metadata.managedFields?.some((f) => f.manager === 'homelab-devtools'), 'the tool must not have applied to the claim')
})

Bootstrap('token mode without a token fails the edition step with the reason and applies nothing', async (ctx) => {
  const name = testNamespace(ctx, 'notoken')
  const { tool, output } = labContext(ctx, { namespace: name, edition: 'token', image: 'localstack/localstack:2026.07.0' })
  const result = await bootstrapWithoutWait(tool)
  assert.is(result.results.find((r) => r.step === 'localstack edition')?.status, 'failed')
  assert.match(output(), /no auth token is configured.*localstack\.authToken/s)
  assert.is(result.changed, 0)
  assert.is(await tool.kube().get({ apiVersion: 'v1', kind: 'Namespace', name }), undefined)
})

Bootstrap.run()
