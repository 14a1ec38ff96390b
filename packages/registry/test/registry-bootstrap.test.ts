import diagnosticsChannel from 'node:diagnostics_channel'
import { tmpdir } from 'node:os'
import { createKubeClient, loadConfig, type KubeClient, type KubeObject } from '@homelab/core'
import { labKubeConfig, labOptionsFromEnv, useLab, reportHookErrors } from '@homelab/lab'
import { suite } from 'uvu'
import * as assert from 'uvu/assert'
import { bcryptCostOf, listRegistryObjects, parseHtpasswd, registry, renderRegistryObjects, storedSecretValue } from '../src/index.js'
import { failures, OutputCapture, resourceVersions, runComponent, stepsWith, writeTestConfig } from './fixtures/lab-run.js'
import { apacheVerifies } from './fixtures/apache-htpasswd.js'
import { startStatusDouble, type StatusDouble } from './fixtures/status-double.js'

type Ctx = { kube: KubeClient; kubeconfigPath: string; stamp: string; capture: OutputCapture; double: StatusDouble; ns: string; configPath: string }
const Bootstrap = suite<Ctx>('registry bootstrap against the lab API server', {} as Ctx)

const CA_NAMESPACE = 'cert-manager'
const CI_PASSWORD = 'ci-password-from-env-1'

const overridesFor = (stamp: string, namespace: string) => ({
  registry: { namespace, users: [{ name: 'admin' }, { name: 'ci' }] },
  tls: { ca: { selfSignedIssuer: `t${stamp}-selfsigned`, certificate: `t${stamp}-root-ca`, secretName: `t${stamp}-root-ca`, issuer: `t${stamp}-ca` } },
  timeouts: { certificate: '30s', rollout: '30s' },
})
const envFor = (ciPassword: string) => ({ HOMELAB_REGISTRY__USERS__1__PASSWORD: ciPassword })
const configOf = (ctx: Ctx, configPath = ctx.configPath) => loadConfig({ configPath, cwd: tmpdir(), env: envFor(CI_PASSWORD) })

/** Every object bootstrap applies, Secrets included. */
function appliedObjects(ctx: Ctx): KubeObject[] {
  const config = configOf(ctx)
  const secret = (name: string): KubeObject => ({ apiVersion: 'v1', kind: 'Secret', metadata: { name, namespace: config.registry.namespace } })
  return [...listRegistryObjects(renderRegistryObjects(config)), secret('registry-credentials'), secret('registry-http-secret'), secret('registry-auth')]
}

const htpasswdOf = async (ctx: Ctx, namespace = ctx.ns) => (await storedSecretValue(ctx.kube, { name: 'registry-auth', namespace }, 'htpasswd')) ?? ''

Bootstrap.before(reportHookErrors(async (ctx) => {
  const lab = await useLab(labOptionsFromEnv(process.env))
  ctx.kubeconfigPath = lab.kubeconfigPath
  ctx.kube = createKubeClient({ kubeconfigPath: lab.kubeconfigPath, fieldManager: 'homelab-devtools' })
  ctx.stamp = `${Date.now()}`
  ctx.ns = `reg-${ctx.stamp}`
  ctx.capture = new OutputCapture()
  // cert-manager's namespace is cert-manager's to create; here the test plays the installed cert-manager.
  const installer = createKubeClient({ kubeconfigPath: lab.kubeconfigPath, fieldManager: 'test-cert-manager-install' })
  await installer.apply({ apiVersion: 'v1', kind: 'Namespace', metadata: { name: CA_NAMESPACE } }, { dryRun: false, force: false })
  ctx.double = startStatusDouble(labKubeConfig(lab), [ctx.ns, `${ctx.ns}-pvc`, CA_NAMESPACE])
  ctx.configPath = writeTestConfig(lab.kubeconfigPath, overridesFor(ctx.stamp, ctx.ns))
}))

Bootstrap.after(async (ctx) => {
  await ctx.double?.stop()
  for (const name of [ctx.ns, `${ctx.ns}-pvc`]) await ctx.kube?.delete({ apiVersion: 'v1', kind: 'Namespace', name })
  for (const name of [`t${ctx.stamp}-selfsigned`, `t${ctx.stamp}-ca`]) await ctx.kube?.delete({ apiVersion: 'cert-manager.io/v1', kind: 'ClusterIssuer', name })
  await ctx.kube?.delete({ apiVersion: 'cert-manager.io/v1', kind: 'Certificate', name: `t${ctx.stamp}-root-ca`, namespace: CA_NAMESPACE })
})

Bootstrap('--plan on an empty namespace shows creates and writes nothing', async (ctx) => {
  const ns = `${ctx.ns}-plan`
  const configPath = writeTestConfig(ctx.kubeconfigPath, overridesFor(`${ctx.stamp}p`, ns))
  const planned = await runComponent(registry, { configPath, capture: ctx.capture, plan: true, env: envFor(CI_PASSWORD) })
  assert.is(planned.failed, 0, failures(planned))
  assert.ok(planned.changed > 10)
  assert.ok(stepsWith(planned, 'skipped').every((s) => s.startsWith('wait for')))
  assert.is(await ctx.kube.get({ apiVersion: 'v1', kind: 'Namespace', name: ns }), undefined)
  assert.is(await ctx.kube.get({ apiVersion: 'cert-manager.io/v1', kind: 'ClusterIssuer', name: `t${ctx.stamp}p-ca` }), undefined)
})

Bootstrap('first bootstrap applies everything; the second reports changed=0 and moves no resourceVersion', async (ctx) => {
  const first = await runComponent(registry, { configPath: ctx.configPath, capture: ctx.capture, env: envFor(CI_PASSWORD) })
  assert.is(first.failed, 0, failures(first))
  assert.ok(first.changed >= 18, `changed=${first.changed}`)
  const before = await resourceVersions(ctx.kube, appliedObjects(ctx))
  assert.ok(Object.values(before).every(Boolean), JSON.stringify(before))
  const second = await runComponent(registry, { configPath: ctx.configPath, capture: ctx.capture, env: envFor(CI_PASSWORD) })
  assert.is(second.changed, 0, JSON.stringify(second.results.filter((r) => r.status === 'changed'), null, 1))
  assert.is(second.failed, 0)
  assert.equal(await resourceVersions(ctx.kube, appliedObjects(ctx)), before)
})

Bootstrap('a no-op run\'s waits read no Deployment or Certificate again: each is read once, by its apply step', async (ctx) => {
  const gets: string[] = []
  const onRequest = (message: unknown) => {
    const { request } = message as { request: { method: string; path: string } }
    if (request.method === 'GET') gets.push(request.path.split('?')[0]!)
  }
  diagnosticsChannel.subscribe('undici:request:create', onRequest)
  let run: Awaited<ReturnType<typeof runComponent>>
  try {
    run = await runComponent(registry, { configPath: ctx.configPath, capture: ctx.capture, env: envFor(CI_PASSWORD) })
  } finally {
    diagnosticsChannel.unsubscribe('undici:request:create', onRequest)
  }
  assert.equal(stepsWith(run, 'changed'), [], JSON.stringify(failures(run)))
  assert.equal(stepsWith(run, 'ok').filter((s) => s.startsWith('wait for')).length, 3, 'both Deployments and the certificates waited for, and ready')
  const waited = gets.filter((path) => /\/(deployments|certificates)\//.test(path))
  assert.ok(waited.length >= 4, `the apply steps read them: ${waited.join(', ')}`)
  assert.equal(waited.filter((path, i) => waited.indexOf(path) !== i), [], `read twice: ${waited.join(', ')}`)
})

Bootstrap('the stored htpasswd holds every user, and Apache htpasswd accepts the stored passwords', async (ctx) => {
  const htpasswd = await htpasswdOf(ctx)
  assert.equal([...parseHtpasswd(htpasswd).keys()], ['admin', 'ci'])
  const admin = await storedSecretValue(ctx.kube, { name: 'registry-credentials', namespace: ctx.ns }, 'admin')
  assert.ok(admin && admin.length >= 24, 'a generated admin password is kept in the credentials Secret')
  assert.ok(apacheVerifies(htpasswd, 'admin', admin!))
  assert.ok(apacheVerifies(htpasswd, 'ci', CI_PASSWORD))
  assert.equal([...parseHtpasswd(htpasswd).values()].map((line) => bcryptCostOf(line.slice(line.indexOf(':') + 1))), [5, 5], 'the default cost, 5')
})

Bootstrap('a new registry.auth.bcryptCost makes every line again at it, moving only the two Secrets; the next run changes nothing', async (ctx) => {
  const costs = async () => [...parseHtpasswd(await htpasswdOf(ctx)).values()].map((line) => bcryptCostOf(line.slice(line.indexOf(':') + 1)))
  const at = (cost: string) => ({ ...envFor(CI_PASSWORD), HOMELAB_REGISTRY__AUTH__BCRYPT_COST: cost })
  const versions = await resourceVersions(ctx.kube, appliedObjects(ctx))
  try {
    const run = await runComponent(registry, { configPath: ctx.configPath, capture: ctx.capture, env: at('6') })
    assert.equal(stepsWith(run, 'changed'), [`apply Secret ${ctx.ns}/registry-auth`, `apply Secret ${ctx.ns}/registry-credentials`], JSON.stringify(failures(run)))
    assert.equal(await costs(), [6, 6])
    assert.ok(apacheVerifies(await htpasswdOf(ctx), 'ci', CI_PASSWORD))
    const now = await resourceVersions(ctx.kube, appliedObjects(ctx))
    assert.equal(Object.keys(now).filter((k) => now[k] !== versions[k]).sort(), [`Secret ${ctx.ns}/registry-auth`, `Secret ${ctx.ns}/registry-credentials`])
    const again = await runComponent(registry, { configPath: ctx.configPath, capture: ctx.capture, env: at('6') })
    assert.equal(stepsWith(again, 'changed'), [])
  } finally {
    // Back to the default the other tests expect, whatever failed above.
    await runComponent(registry, { configPath: ctx.configPath, capture: ctx.capture, env: envFor(CI_PASSWORD) })
  }
  assert.equal(await costs(), [5, 5])
})

Bootstrap('a changed password changes exactly that htpasswd line and only the two Secrets', async (ctx) => {
  const before = parseHtpasswd(await htpasswdOf(ctx))
  const versions = await resourceVersions(ctx.kube, appliedObjects(ctx))
  const run = await runComponent(registry, { configPath: ctx.configPath, capture: ctx.capture, env: envFor('ci-password-changed-2') })
  assert.equal(stepsWith(run, 'changed'), [`apply Secret ${ctx.ns}/registry-auth`, `apply Secret ${ctx.ns}/registry-credentials`])
  const after = parseHtpasswd(await htpasswdOf(ctx))
  assert.is(after.get('admin'), before.get('admin'))
  assert.is.not(after.get('ci'), before.get('ci'))
  assert.ok(apacheVerifies(await htpasswdOf(ctx), 'ci', 'ci-password-changed-2'))
  const now = await resourceVersions(ctx.kube, appliedObjects(ctx))
  const moved = Object.keys(now).filter((k) => now[k] !== versions[k]).sort()
  assert.equal(moved, [`Secret ${ctx.ns}/registry-auth`, `Secret ${ctx.ns}/registry-credentials`])
  // Back to the password the other tests expect.
  await runComponent(registry, { configPath: ctx.configPath, capture: ctx.capture, env: envFor(CI_PASSWORD) })
})

Bootstrap('a --json run reports the same steps as JSON events', async (ctx) => {
  const capture = new OutputCapture()
  const run = await runComponent(registry, { configPath: ctx.configPath, capture, json: true, env: envFor(CI_PASSWORD) })
  assert.is(run.changed, 0, capture.all())
  const events = capture.all().trim().split('\n').map((l) => JSON.parse(l) as { event: string })
  assert.ok(events.some((e) => e.event === 'recap'))
  ctx.capture.out.write(capture.all())
})

Bootstrap('registry.ui.enabled: false removes the UI bootstrap made; the next run changes nothing; true brings it back', async (ctx) => {
  const overrides = overridesFor(ctx.stamp, ctx.ns)
  const off = writeTestConfig(ctx.kubeconfigPath, { ...overrides, registry: { ...overrides.registry, ui: { enabled: false } } })
  const ui = [['apps/v1', 'Deployment', 'registry-ui'], ['v1', 'Service', 'registry-ui'], ['cert-manager.io/v1', 'Certificate', 'registry-ui-tls'], ['traefik.io/v1alpha1', 'IngressRoute', 'registry-ui']] as const
  const present = async () => (await Promise.all(ui.map(([apiVersion, kind, name]) => ctx.kube.get({ apiVersion, kind, name, namespace: ctx.ns })))).map(Boolean)
  assert.equal(await present(), [true, true, true, true])
  const plan = await runComponent(registry, { configPath: off, capture: ctx.capture, plan: true, env: envFor(CI_PASSWORD) })
  // With them the TLS Secret cert-manager (here the lab's) issued for the UI Certificate.
  assert.equal(stepsWith(plan, 'changed').sort(), [...ui.map(([, kind, name]) => `remove ${kind} ${ctx.ns}/${name}`), `remove Secret ${ctx.ns}/registry-ui-tls`].sort())
  const removed = await runComponent(registry, { configPath: off, capture: ctx.capture, env: envFor(CI_PASSWORD) })
  assert.is(removed.failed, 0, failures(removed))
  assert.equal(await present(), [false, false, false, false])
  assert.is((await runComponent(registry, { configPath: off, capture: ctx.capture, env: envFor(CI_PASSWORD) })).changed, 0)
  const on = await runComponent(registry, { configPath: ctx.configPath, capture: ctx.capture, env: envFor(CI_PASSWORD) })
  assert.is(on.failed, 0, failures(on))
  assert.equal(await present(), [true, true, true, true])
})

Bootstrap('while a garbage-collect pod a dead gc run left still sweeps, bootstrap leaves the registry\'s mode and pods alone', async (ctx) => {
  const pod = { apiVersion: 'v1', kind: 'Pod', metadata: { name: 'registry-gc-left-behind', namespace: ctx.ns, labels: { 'app.kubernetes.io/component': 'garbage-collect' } }, spec: { containers: [{ name: 'gc', image: 'registry:2' }] } }
  const gcKube = createKubeClient({ kubeconfigPath: ctx.kubeconfigPath, fieldManager: 'a-gc-run-that-died' })
  await gcKube.apply(pod as KubeObject, { dryRun: false, force: true })
  try {
    const run = await runComponent(registry, { configPath: ctx.configPath, capture: ctx.capture, env: envFor(CI_PASSWORD) })
    const failure = run.results.find((r) => r.step === 'no registry garbage-collect running')
    assert.is(failure?.status, 'failed', failures(run))
    assert.match(failure!.error!, new RegExp(`garbage-collect is still running in ${ctx.ns} \\(registry-gc-left-behind\\)`))
    assert.match(failure!.error!, /run `pnpm --filter registry run gc` again/)
    for (const step of [`apply ConfigMap ${ctx.ns}/registry-config`, `apply Deployment ${ctx.ns}/registry`]) assert.is(run.results.find((r) => r.step === step)?.status, 'skipped', step)
  } finally {
    await gcKube.delete({ apiVersion: 'v1', kind: 'Pod', namespace: ctx.ns, name: 'registry-gc-left-behind' })
  }
  const after = await runComponent(registry, { configPath: ctx.configPath, capture: ctx.capture, env: envFor(CI_PASSWORD) })
  assert.equal([after.failed, after.changed], [0, 0], failures(after))
})

Bootstrap('a PVC of another size is reported with what to do, and never recreated or resized', async (ctx) => {
  const ns = `${ctx.ns}-pvc`
  const someoneElse = createKubeClient({ kubeconfigPath: ctx.kubeconfigPath, fieldManager: 'earlier-install' })
  await someoneElse.apply({ apiVersion: 'v1', kind: 'Namespace', metadata: { name: ns } }, { dryRun: false, force: false })
  const pvc: KubeObject = { apiVersion: 'v1', kind: 'PersistentVolumeClaim', metadata: { name: 'registry-data', namespace: ns }, spec: { accessModes: ['ReadWriteOnce'], storageClassName: 'local-path', resources: { requests: { storage: '10Gi' } } } }
  const created = await someoneElse.apply(pvc, { dryRun: false, force: false })
  const configPath = writeTestConfig(ctx.kubeconfigPath, overridesFor(ctx.stamp, ns))
  const run = await runComponent(registry, { configPath, capture: ctx.capture, env: envFor(CI_PASSWORD) })
  const failure = run.results.find((r) => r.step === `apply PersistentVolumeClaim ${ns}/registry-data`)
  assert.is(failure?.status, 'failed')
  assert.match(failure!.error!, /exists with 10Gi on storage class "local-path", but config asks for 30Gi/)
  assert.match(failure!.error!, /cannot shrink/)
  assert.match(failure!.error!, /registry\.storage\.size/)
  assert.is(run.results.find((r) => r.step === `apply Deployment ${ns}/registry`)?.status, 'skipped')
  const stored = await ctx.kube.get({ apiVersion: 'v1', kind: 'PersistentVolumeClaim', name: 'registry-data', namespace: ns })
  assert.is(stored?.metadata['uid'], created.metadata['uid'])
  assert.is((stored?.['spec'] as any).resources.requests.storage, '10Gi')
  // The lab's controller may bind the claim (a status write), so "untouched" is judged by who manages its fields.
  assert.not.ok(stored?.metadata.managedFields?.some((f) => f.manager === 'homelab-devtools'), 'the tool must not have applied to the claim')
})

Bootstrap('no password, bcrypt hash or http secret appears in anything printed', async (ctx) => {
  const ns = ctx.ns
  const admin = await storedSecretValue(ctx.kube, { name: 'registry-credentials', namespace: ns }, 'admin')
  const http = await storedSecretValue(ctx.kube, { name: 'registry-http-secret', namespace: ns }, 'secret')
  const hashes = [...parseHtpasswd(await htpasswdOf(ctx)).values()].map((line) => line.slice(line.indexOf(':') + 1))
  const secrets = [admin!, http!, CI_PASSWORD, 'ci-password-changed-2', ...hashes]
  const printed = ctx.capture.all()
  assert.ok(printed.length > 1000, 'the runs printed their steps')
  for (const value of secrets) {
    assert.ok(value.length >= 16)
    assert.not.ok(printed.includes(value), `a secret value (${value.length} chars) was printed`)
  }
  assert.not.match(printed, /\$2[aby]\$\d\d\$/)
})

Bootstrap.run()
