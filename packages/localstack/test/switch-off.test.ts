import { createKubeClient, type KubeObject, type ObjectRef, type RunResult } from '@homelab/core'
import { labOptionsFromEnv, reportHookErrors, useLab } from '@homelab/lab'
import { suite } from 'uvu'
import * as assert from 'uvu/assert'
import { bootstrapWithoutWait, labContext, settled, testNamespace, type LabCtx } from './lab-run.js'

type Ctx = LabCtx
const SwitchOff = suite<Ctx>('localstack.enabled: false against the lab API server', { kubeconfig: '', namespaces: [] })

const TOKEN = 'ls-switch-off-test-token-93c4b7'
const OFF = 'localstack.enabled is false'

/** Every option on, so every object bootstrap can make is there to be removed. */
const everything = (namespace: string) => ({
  namespace,
  edition: 'token',
  image: 'localstack/localstack:2026.07.0',
  authToken: TOKEN,
  s3: { virtualHostStyle: true },
  probe: { blackboxExporter: 'blackbox.monitoring.svc:9115' },
})



/** What bootstrap made with every option on, by the step that makes (and removes) it. */
const made = (ns: string): [string, ObjectRef][] => [
  ['localstack deployment', { apiVersion: 'apps/v1', kind: 'Deployment', namespace: ns, name: 'localstack' }],
  ['localstack service', { apiVersion: 'v1', kind: 'Service', namespace: ns, name: 'localstack' }],
  ['localstack certificate', { apiVersion: 'cert-manager.io/v1', kind: 'Certificate', namespace: ns, name: 'localstack' }],
  ['localstack ingress route', { apiVersion: 'traefik.io/v1alpha1', kind: 'IngressRoute', namespace: ns, name: 'localstack' }],
  ['localstack s3 virtual-host route', { apiVersion: 'traefik.io/v1alpha1', kind: 'IngressRoute', namespace: ns, name: 'localstack-s3-virtual-host' }],
  ['localstack auth token secret', { apiVersion: 'v1', kind: 'Secret', namespace: ns, name: 'localstack-auth-token' }],
  ['localstack health probe', { apiVersion: 'monitoring.coreos.com/v1', kind: 'Probe', namespace: ns, name: 'localstack-health' }],
]

const statusOf = (run: RunResult, step: string) => run.results.find((r) => r.step === step)?.status

SwitchOff.before(reportHookErrors(async (ctx) => {
  ctx.kubeconfig = (await useLab(labOptionsFromEnv(process.env))).kubeconfigPath
}))

SwitchOff.after(async (ctx) => {
  const { tool } = labContext(ctx, {})
  // The lab runs no namespace controller: a deleted namespace keeps its objects, and the lab kubelet their pods.
  for (const name of ctx.namespaces) {
    await tool.kube().delete({ apiVersion: 'apps/v1', kind: 'Deployment', namespace: name, name: 'localstack' })
    await tool.kube().delete({ apiVersion: 'v1', kind: 'Namespace', name })
  }
})

SwitchOff('switched off: the plan lists every removal and changes nothing; the run removes them, keeps the claim, the namespace and a foreign object; a second run reports changed=0', async (ctx) => {
  const ns = testNamespace(ctx, 'off')
  const on = labContext(ctx, everything(ns))
  assert.is((await bootstrapWithoutWait(on.tool)).failed, 0, on.output())
  const kube = on.tool.kube()
  for (const [, ref] of made(ns)) assert.ok(await kube.get(ref), `${ref.kind} ${ref.name} was not made`)
  // The TLS Secret as cert-manager writes it for our Certificate (the test config names no issuer the lab's double
  // can resolve, so it is written here under cert-manager's name): not ours by label or manager.
  const tls = { apiVersion: 'v1', kind: 'Secret', namespace: ns, name: 'localstack-tls' }
  const tlsStep = `remove Secret ${ns}/localstack-tls`
  const certManager = createKubeClient({ kubeconfigPath: ctx.kubeconfig, fieldManager: 'cert-manager-certificates-issuing' })
  const certificate = await kube.get({ apiVersion: 'cert-manager.io/v1', kind: 'Certificate', namespace: ns, name: 'localstack' })
  const altNames = ((certificate?.['spec'] as { dnsNames: string[] }).dnsNames).join(',')
  await certManager.apply({ apiVersion: 'v1', kind: 'Secret', type: 'kubernetes.io/tls', metadata: { name: tls.name, namespace: ns, annotations: { 'cert-manager.io/certificate-name': 'localstack', 'cert-manager.io/alt-names': altNames } }, data: { 'tls.crt': '', 'tls.key': '' } }, { dryRun: false, force: true })
  const someoneElse = createKubeClient({ kubeconfigPath: ctx.kubeconfig, fieldManager: 'someone-else' })
  const foreign = { apiVersion: 'v1', kind: 'ConfigMap', namespace: ns, name: 'team-notes' }
  await someoneElse.apply({ apiVersion: 'v1', kind: 'ConfigMap', metadata: { name: foreign.name, namespace: ns }, data: { note: 'not the tool’s' } }, { dryRun: false, force: false })
  await settled(on.tool)
  const versions = async () => Promise.all(made(ns).map(async ([, ref]) => (await kube.get(ref))?.metadata['resourceVersion']))
  const before = await versions()

  const planned = labContext(ctx, { namespace: ns, enabled: false }, true)
  const plan = await bootstrapWithoutWait(planned.tool)
  assert.is(plan.failed, 0, planned.output())
  assert.equal(made(ns).map(([step]) => statusOf(plan, step)), made(ns).map(() => 'changed'), planned.output())
  assert.is(statusOf(plan, tlsStep), 'changed', planned.output())
  assert.is(plan.changed, made(ns).length + 1, planned.output())
  for (const [, ref] of made(ns)) assert.ok(planned.output().includes(`delete ${ref.kind} ${ns}/${ref.name} (${OFF})`), planned.output())
  assert.equal(await versions(), before, 'the plan changed something')

  const off = labContext(ctx, { namespace: ns, enabled: false })
  const run = await bootstrapWithoutWait(off.tool)
  assert.is(run.failed, 0, off.output())
  assert.is(run.changed, made(ns).length + 1, off.output())
  assert.is(await kube.get(tls), undefined, 'the TLS Secret cert-manager issued for our Certificate is still there')
  assert.ok(run.results.findIndex((r) => r.step === tlsStep) > run.results.findIndex((r) => r.step === 'localstack certificate'), 'the Secret went before its Certificate')
  for (const [, ref] of made(ns)) assert.is(await kube.get(ref), undefined, `${ref.kind} ${ref.name} is still there`)
  assert.ok(await kube.get({ apiVersion: 'v1', kind: 'PersistentVolumeClaim', namespace: ns, name: 'localstack-state' }), 'the state claim must stay')
  assert.ok(await kube.get({ apiVersion: 'v1', kind: 'Namespace', name: ns }), 'the namespace must stay')
  assert.ok(await kube.get(foreign), 'someone else’s ConfigMap must stay')
  assert.match(off.output(), /skipped\s+localstack state volume: localstack\.enabled is false; kept: it holds LocalStack's state.*teardown --delete-data/)

  const again = labContext(ctx, { namespace: ns, enabled: false })
  const second = await bootstrapWithoutWait(again.tool)
  assert.is(second.changed, 0, again.output())
  assert.is(second.failed, 0, again.output())
  for (const [step] of made(ns)) assert.match(again.output(), new RegExp(`skipped\\s+${step}: ${OFF}\\n`))
  for (const output of [planned.output(), off.output(), again.output()]) {
    assert.not.ok(output.includes(TOKEN), 'the token must never be printed')
    assert.not.ok(output.includes(Buffer.from(TOKEN).toString('base64')), 'nor its base64')
  }
})

SwitchOff('switched off: an object of the same name that is not ours (another field manager, or no label) is left alone and said so', async (ctx) => {
  const ns = testNamespace(ctx, 'foreign')
  const someoneElse = createKubeClient({ kubeconfigPath: ctx.kubeconfig, fieldManager: 'someone-else' })
  // Our field manager without our label: what a `kubectl apply --field-manager homelab-devtools` by hand would leave.
  const unlabelled = createKubeClient({ kubeconfigPath: ctx.kubeconfig, fieldManager: 'homelab-devtools' })
  await someoneElse.apply({ apiVersion: 'v1', kind: 'Namespace', metadata: { name: ns } }, { dryRun: false, force: false })
  const service: KubeObject = {
    apiVersion: 'v1',
    kind: 'Service',
    metadata: { name: 'localstack', namespace: ns, labels: { 'app.kubernetes.io/managed-by': 'homelab-devtools' } },
    spec: { selector: { app: 'their-localstack' }, ports: [{ name: 'edge', port: 4566, protocol: 'TCP' }] },
  }
  const route: KubeObject = {
    apiVersion: 'traefik.io/v1alpha1',
    kind: 'IngressRoute',
    metadata: { name: 'localstack', namespace: ns },
    spec: { entryPoints: ['websecure'], routes: [{ kind: 'Rule', match: 'Host(`their-localstack.example`)', services: [{ name: 'localstack', port: 4566 }] }] },
  }
  // What cert-manager left of their own LocalStack's Certificate, now gone: issued for their names, not ours.
  const theirTls: KubeObject = {
    apiVersion: 'v1', kind: 'Secret', type: 'kubernetes.io/tls',
    metadata: { name: 'localstack-tls', namespace: ns, annotations: { 'cert-manager.io/certificate-name': 'localstack', 'cert-manager.io/alt-names': 'aws.example.org' } },
    data: { 'tls.crt': '', 'tls.key': '' },
  }
  await someoneElse.apply(service, { dryRun: false, force: false })
  await unlabelled.apply(route, { dryRun: false, force: false })
  await someoneElse.apply(theirTls, { dryRun: false, force: false })
  const refs = [
    { apiVersion: 'v1', kind: 'Service', namespace: ns, name: 'localstack' },
    { apiVersion: 'traefik.io/v1alpha1', kind: 'IngressRoute', namespace: ns, name: 'localstack' },
    { apiVersion: 'v1', kind: 'Secret', namespace: ns, name: 'localstack-tls' },
  ]
  const versions = async () => Promise.all(refs.map(async (ref) => (await someoneElse.get(ref))?.metadata['resourceVersion']))
  const before = await versions()
  const { tool, output } = labContext(ctx, { namespace: ns, enabled: false })
  const run = await bootstrapWithoutWait(tool)
  assert.is(run.failed, 0, output())
  assert.is(run.changed, 0, output())
  assert.equal(await versions(), before, 'someone else’s objects were touched')
  assert.ok(before.every((v) => v !== undefined))
  assert.is(statusOf(run, 'localstack service'), 'skipped', output())
  assert.is(statusOf(run, 'localstack ingress route'), 'skipped', output())
  assert.match(output(), new RegExp(`Service ${ns}/localstack is there but was not made by this tool: left alone \\(${OFF}\\)`))
  assert.match(output(), new RegExp(`IngressRoute ${ns}/localstack is there but was not made by this tool: left alone \\(${OFF}\\)`))
  assert.match(output(), new RegExp(`Secret ${ns}/localstack-tls was issued for aws\\.example\\.org, not localstack\\.\\S+: not known to be ours, left alone \\(${OFF}\\)`))
})

SwitchOff.run()
