import { tmpdir } from 'node:os'
import { CERTIFICATE_NAME_ANNOTATION, createKubeClient, issuedFor, loadConfig, MANAGED_BY, type KubeClient, type KubeObject, type ObjectRef } from '@homelab/core'
import { labKubeConfig, labOptionsFromEnv, useLab, reportHookErrors } from '@homelab/lab'
import { suite } from 'uvu'
import * as assert from 'uvu/assert'
import { planOldAuthSecrets, registry, renderRegistryObjects, rolledOffSecrets, SECRET_ROLE_LABEL, storedSecretValue, type ConfiguredAuthSecret } from '../src/index.js'
import { failures, OutputCapture, resourceVersions, runComponent, stepsWith, writeTestConfig } from './fixtures/lab-run.js'
import { startStatusDouble, type StatusDouble } from './fixtures/status-double.js'

// ---- pure: which Secrets count as old ones of ours -------------------------------------------------------------

const Plan = suite('which old registry Secrets bootstrap removes')

const OURS = 'homelab-devtools'
const configured: ConfiguredAuthSecret[] = [
  { role: 'credentials', name: 'creds-v2', key: 'registry.auth.credentialsSecretName' },
  { role: 'htpasswd', name: 'auth-v2', key: 'registry.auth.secretName' },
]
const secret = (name: string, options: { role?: string; manager?: string; managedBy?: boolean } = {}): KubeObject => ({
  apiVersion: 'v1',
  kind: 'Secret',
  metadata: {
    name,
    namespace: 'registry',
    labels: { 'app.kubernetes.io/name': 'registry', ...(options.managedBy === false ? {} : MANAGED_BY), ...(options.role ? { [SECRET_ROLE_LABEL]: options.role } : {}) },
    managedFields: [{ manager: options.manager ?? OURS, operation: 'Apply' }],
  },
})

const planCases: [string, KubeObject, string[]][] = [
  ['an old htpasswd Secret of ours goes', secret('registry-auth', { role: 'htpasswd' }), ['Secret registry/registry-auth: registry.auth.secretName is now auth-v2']],
  ['an old credentials Secret of ours goes', secret('registry-credentials', { role: 'credentials' }), ['Secret registry/registry-credentials: registry.auth.credentialsSecretName is now creds-v2']],
  ['the configured htpasswd Secret stays', secret('auth-v2', { role: 'htpasswd' }), []],
  ['a name config now gives another role stays (its label changes on apply)', secret('creds-v2', { role: 'htpasswd' }), []],
  ['one with our labels written by another field manager stays', secret('registry-auth-copy', { role: 'htpasswd', manager: 'kubectl-client-side-apply' }), []],
  ['one without the managed-by label stays', secret('registry-auth', { role: 'htpasswd', managedBy: false }), []],
  ['one made before Secrets carried a role stays', secret('registry-auth'), []],
  ['the http secret (not renamable) stays', secret('registry-http-secret', { role: 'http-secret' }), []],
]
for (const [name, input, out] of planCases) {
  Plan(name, () => assert.equal(planOldAuthSecrets([input], configured, OURS).map((o) => `Secret ${o.ref.namespace}/${o.ref.name}: ${o.because}`), out))
}

const deployment = (secretName: string, status: Record<string, number>): KubeObject => ({
  apiVersion: 'apps/v1',
  kind: 'Deployment',
  metadata: { name: 'registry', namespace: 'registry', generation: 2 },
  spec: { replicas: 1, template: { spec: { volumes: [{ name: 'auth', secret: { secretName } }] } } },
  status,
})
const rolled = { observedGeneration: 2, updatedReplicas: 1, availableReplicas: 1 }
const rolloutCases: [string, KubeObject | undefined, boolean][] = [
  ['still mounting the old Secret: wait', deployment('registry-auth', rolled), false],
  ['on the new Secret, rollout not observed yet: wait', deployment('auth-v2', { ...rolled, observedGeneration: 1 }), false],
  ['on the new Secret and available: done', deployment('auth-v2', rolled), true],
  ['no Deployment: wait', undefined, false],
]
for (const [name, input, done] of rolloutCases) Plan(`rollout: ${name}`, () => assert.is(rolledOffSecrets(input, ['registry-auth']).done, done))

const annotated = (namespace: string, certificate: string): KubeObject => ({ apiVersion: 'v1', kind: 'Secret', metadata: { name: 'registry-ui-tls', namespace, annotations: { [CERTIFICATE_NAME_ANNOTATION]: certificate } } })
const ourCertificate: ObjectRef = { apiVersion: 'cert-manager.io/v1', kind: 'Certificate', namespace: 'registry', name: 'registry-ui-tls' }
const issuedCases: [string, KubeObject, boolean][] = [
  ['annotated for our Certificate, in its namespace', annotated('registry', 'registry-ui-tls'), true],
  ['annotated for another Certificate', annotated('registry', 'someone-elses-tls'), false],
  ['annotated with our name, in another namespace', annotated('elsewhere', 'registry-ui-tls'), false],
  ['not annotated at all', { apiVersion: 'v1', kind: 'Secret', metadata: { name: 'registry-ui-tls', namespace: 'registry' } }, false],
]
for (const [name, input, out] of issuedCases) Plan(`issued for our Certificate: ${name}`, () => assert.is(issuedFor(input, ourCertificate), out))

Plan.run()

// ---- against the lab's API server ------------------------------------------------------------------------------

type Ctx = { kube: KubeClient; kubeconfigPath: string; stamp: string; capture: OutputCapture; double: StatusDouble; ns: string }
const Lab = suite<Ctx>('old registry Secrets removed against the lab API server', {} as Ctx)

const CA_NAMESPACE = 'cert-manager'
const env = { HOMELAB_REGISTRY__USERS__1__PASSWORD: 'ci-password-from-env-1' }
const overrides = (ctx: Ctx, registryOverrides: Record<string, unknown> = {}, rollout = '30s') => ({
  registry: { namespace: ctx.ns, users: [{ name: 'admin' }, { name: 'ci' }], ...registryOverrides },
  tls: { ca: { selfSignedIssuer: `t${ctx.stamp}-selfsigned`, certificate: `t${ctx.stamp}-root-ca`, secretName: `t${ctx.stamp}-root-ca`, issuer: `t${ctx.stamp}-ca` } },
  timeouts: { certificate: '30s', rollout },
})
const run = (ctx: Ctx, configPath: string, plan = false) => runComponent(registry, { configPath, capture: ctx.capture, plan, env })
const secretRef = (ctx: Ctx, name: string) => ({ apiVersion: 'v1', kind: 'Secret', namespace: ctx.ns, name })
const present = async (ctx: Ctx, ...names: string[]) => Promise.all(names.map(async (n) => (await ctx.kube.get(secretRef(ctx, n))) !== undefined))
const mountedAuthSecret = async (ctx: Ctx) => {
  const d = await ctx.kube.get({ apiVersion: 'apps/v1', kind: 'Deployment', namespace: ctx.ns, name: 'registry' })
  return ((d?.['spec'] as any).template.spec.volumes as { name: string; secret?: { secretName: string } }[]).find((v) => v.name === 'auth')?.secret?.secretName
}
const summaries = (result: Awaited<ReturnType<typeof run>>, step: string) => result.results.find((r) => r.step === step)?.changes.map((c) => c.summary) ?? []

/** Every object a run may touch here, Secrets under each name included, for "the plan moved nothing". */
function watched(ctx: Ctx, configPath: string, secretNames: string[]): KubeObject[] {
  const objects = renderRegistryObjects(loadConfig({ configPath, cwd: tmpdir(), env }))
  const secrets = secretNames.map((name) => ({ apiVersion: 'v1', kind: 'Secret', metadata: { name, namespace: ctx.ns } }))
  return [objects.deployment, objects.certificate, ...secrets]
}

Lab.before(reportHookErrors(async (ctx) => {
  const lab = await useLab(labOptionsFromEnv(process.env))
  ctx.kubeconfigPath = lab.kubeconfigPath
  ctx.kube = createKubeClient({ kubeconfigPath: lab.kubeconfigPath, fieldManager: OURS })
  ctx.stamp = `${Date.now()}`
  ctx.ns = `old-${ctx.stamp}`
  ctx.capture = new OutputCapture()
  const installer = createKubeClient({ kubeconfigPath: lab.kubeconfigPath, fieldManager: 'test-cert-manager-install' })
  await installer.apply({ apiVersion: 'v1', kind: 'Namespace', metadata: { name: CA_NAMESPACE } }, { dryRun: false, force: false })
  ctx.double = startStatusDouble(labKubeConfig(lab), [ctx.ns, CA_NAMESPACE])
  const first = await run(ctx, writeTestConfig(ctx.kubeconfigPath, overrides(ctx)))
  assert.is(first.failed, 0, failures(first))
}))

Lab.after(async (ctx) => {
  await ctx.double?.stop()
  await ctx.kube?.delete({ apiVersion: 'v1', kind: 'Namespace', name: ctx.ns })
  for (const name of [`t${ctx.stamp}-selfsigned`, `t${ctx.stamp}-ca`]) await ctx.kube?.delete({ apiVersion: 'cert-manager.io/v1', kind: 'ClusterIssuer', name })
  await ctx.kube?.delete({ apiVersion: 'cert-manager.io/v1', kind: 'Certificate', name: `t${ctx.stamp}-root-ca`, namespace: CA_NAMESPACE })
})

Lab('renaming registry.auth.secretName: the old Secret goes once the Deployment runs on the new one; a look-alike of someone else\'s stays', async (ctx) => {
  // Our labels, role included, but written by another field manager: not ours.
  const other = createKubeClient({ kubeconfigPath: ctx.kubeconfigPath, fieldManager: 'someone-else' })
  const lookAlike = { ...secretRef(ctx, 'registry-auth-backup'), metadata: { name: 'registry-auth-backup', namespace: ctx.ns, labels: { 'app.kubernetes.io/name': 'registry', 'app.kubernetes.io/part-of': 'homelab-devtools', ...MANAGED_BY, [SECRET_ROLE_LABEL]: 'htpasswd' } }, data: { htpasswd: 'eDp5' } }
  await other.apply(lookAlike as KubeObject, { dryRun: false, force: true })
  const renamed = writeTestConfig(ctx.kubeconfigPath, overrides(ctx, { auth: { secretName: 'registry-auth-v2' } }))
  const step = `remove registry auth Secrets no longer configured in ${ctx.ns}`

  const before = await resourceVersions(ctx.kube, watched(ctx, renamed, ['registry-auth', 'registry-auth-backup']))
  const plan = await run(ctx, renamed, true)
  assert.is(plan.failed, 0, failures(plan))
  assert.equal(summaries(plan, step), [`delete Secret ${ctx.ns}/registry-auth (registry.auth.secretName is now registry-auth-v2)`])
  assert.equal(await resourceVersions(ctx.kube, watched(ctx, renamed, ['registry-auth', 'registry-auth-backup'])), before, 'the plan changed nothing')
  assert.equal(await present(ctx, 'registry-auth-v2'), [false])

  // An image the lab cannot run: the Deployment points at the new Secret but never rolls onto it.
  const stuck = writeTestConfig(ctx.kubeconfigPath, overrides(ctx, { auth: { secretName: 'registry-auth-v2' }, image: 'mirror.invalid/registry:2.8.3' }, '3s'))
  const notRolled = await run(ctx, stuck)
  const waited = notRolled.results.find((r) => r.step === step)
  assert.is(waited?.status, 'failed', failures(notRolled))
  assert.match(waited!.error!, `the old Secrets (registry-auth) stay until it does`)
  assert.is(await mountedAuthSecret(ctx), 'registry-auth-v2')
  assert.equal(await present(ctx, 'registry-auth', 'registry-auth-v2'), [true, true])

  const applied = await run(ctx, renamed)
  assert.is(applied.failed, 0, failures(applied))
  assert.equal(summaries(applied, step), [`delete Secret ${ctx.ns}/registry-auth (registry.auth.secretName is now registry-auth-v2)`])
  const finished = applied.results.map((r) => r.step)
  assert.ok(finished.indexOf(step) > finished.indexOf(`apply Deployment ${ctx.ns}/registry`), 'removed after the Deployment was applied')
  assert.is(await mountedAuthSecret(ctx), 'registry-auth-v2')
  assert.equal(await present(ctx, 'registry-auth', 'registry-auth-v2', 'registry-auth-backup'), [false, true, true])

  const again = await run(ctx, renamed)
  assert.equal([again.failed, again.changed], [0, 0], failures(again) + stepsWith(again, 'changed').join(', '))
  assert.equal(await present(ctx, 'registry-auth-backup'), [true])
})

Lab('registry.ui.enabled: false removes the TLS Secret cert-manager issued for our UI Certificate, after the Certificate', async (ctx) => {
  const certificate = { apiVersion: 'cert-manager.io/v1', kind: 'Certificate', namespace: ctx.ns, name: 'registry-ui-tls' }
  const issued = await ctx.kube.get(secretRef(ctx, 'registry-ui-tls'))
  // The lab's cert-manager double issues it as cert-manager does; seed one if it has not yet.
  if (!issued) await createKubeClient({ kubeconfigPath: ctx.kubeconfigPath, fieldManager: 'cert-manager-certificates-issuing' }).apply(issuedSecret(ctx, 'registry-ui-tls'), { dryRun: false, force: true })
  assert.is((await ctx.kube.get(secretRef(ctx, 'registry-ui-tls')))?.metadata.annotations?.[CERTIFICATE_NAME_ANNOTATION], 'registry-ui-tls')
  const off = writeTestConfig(ctx.kubeconfigPath, overrides(ctx, { auth: { secretName: 'registry-auth-v2' }, ui: { enabled: false } }))
  const step = `remove Secret ${ctx.ns}/registry-ui-tls`

  const before = await resourceVersions(ctx.kube, watched(ctx, off, ['registry-ui-tls']))
  const plan = await run(ctx, off, true)
  assert.is(plan.failed, 0, failures(plan))
  assert.equal(summaries(plan, step), [`delete Secret ${ctx.ns}/registry-ui-tls (cert-manager issued it for Certificate ${ctx.ns}/registry-ui-tls; registry.ui.enabled is false)`])
  assert.equal(await resourceVersions(ctx.kube, watched(ctx, off, ['registry-ui-tls'])), before, 'the plan changed nothing')
  assert.ok(await ctx.kube.get(certificate))

  const applied = await run(ctx, off)
  assert.is(applied.failed, 0, failures(applied))
  assert.equal(stepsWith(applied, 'changed').filter((s) => s.includes('registry-ui-tls')), [`remove Certificate ${ctx.ns}/registry-ui-tls`, step])
  const finished = applied.results.map((r) => r.step)
  assert.ok(finished.indexOf(step) > finished.indexOf(`remove Certificate ${ctx.ns}/registry-ui-tls`), 'the Secret goes after the Certificate')
  assert.is(await ctx.kube.get(certificate), undefined)
  assert.equal(await present(ctx, 'registry-ui-tls'), [false])

  const again = await run(ctx, off)
  assert.equal([again.failed, again.changed], [0, 0], failures(again) + stepsWith(again, 'changed').join(', '))
})

Lab('registry.ui.enabled: false in the same edit as a new domain: the Secret issued for the old names goes too', async (ctx) => {
  const on = writeTestConfig(ctx.kubeconfigPath, overrides(ctx, { auth: { secretName: 'registry-auth-v2' } }))
  const back = await run(ctx, on)
  assert.is(back.failed, 0, failures(back))
  // As cert-manager issues it: annotated with our Certificate and the names it asked for (the old domain's).
  const issuer = createKubeClient({ kubeconfigPath: ctx.kubeconfigPath, fieldManager: 'cert-manager-certificates-issuing' })
  const issued = issuedSecret(ctx, 'registry-ui-tls')
  issued.metadata.annotations!['cert-manager.io/alt-names'] = 'registry-ui.homelab.local'
  await issuer.apply(issued, { dryRun: false, force: true })

  const moved = writeTestConfig(ctx.kubeconfigPath, { ...overrides(ctx, { auth: { secretName: 'registry-auth-v2' }, ui: { enabled: false } }), domain: 'moved.home.arpa' })
  const applied = await run(ctx, moved)
  assert.is(applied.failed, 0, failures(applied))
  assert.equal(stepsWith(applied, 'changed').filter((s) => s.includes('registry-ui-tls')), [`remove Certificate ${ctx.ns}/registry-ui-tls`, `remove Secret ${ctx.ns}/registry-ui-tls`], ctx.capture.all())
  assert.equal(await present(ctx, 'registry-ui-tls'), [false])
  assert.not.match(ctx.capture.all(), 'not known to be ours')
  // Back on the suite's domain, UI off, for the tests after this one.
  const restored = await run(ctx, writeTestConfig(ctx.kubeconfigPath, overrides(ctx, { auth: { secretName: 'registry-auth-v2' }, ui: { enabled: false } })))
  assert.is(restored.failed, 0, failures(restored))
})

Lab('a Secret under the UI certificate\'s name issued for another Certificate, or for someone else\'s same-named one, stays', async (ctx) => {
  const off = writeTestConfig(ctx.kubeconfigPath, overrides(ctx, { auth: { secretName: 'registry-auth-v2' }, ui: { enabled: false } }))
  const issuer = createKubeClient({ kubeconfigPath: ctx.kubeconfigPath, fieldManager: 'cert-manager-certificates-issuing' })
  await issuer.apply(issuedSecret(ctx, 'someone-elses-tls'), { dryRun: false, force: true })
  const forOther = await run(ctx, off)
  assert.equal([forOther.failed, forOther.changed], [0, 0], failures(forOther) + stepsWith(forOther, 'changed').join(', '))
  assert.equal(await present(ctx, 'registry-ui-tls'), [true])
  assert.match(ctx.capture.all(), `Secret ${ctx.ns}/registry-ui-tls is there but cert-manager did not issue it for Certificate ${ctx.ns}/registry-ui-tls`)

  // Someone else's Certificate under our UI certificate's name, and the Secret issued for it.
  const other = createKubeClient({ kubeconfigPath: ctx.kubeconfigPath, fieldManager: 'someone-else' })
  const theirs = { apiVersion: 'cert-manager.io/v1', kind: 'Certificate', metadata: { name: 'registry-ui-tls', namespace: ctx.ns }, spec: { secretName: 'registry-ui-tls', dnsNames: ['theirs.example'], issuerRef: { name: 'no-such-issuer', kind: 'ClusterIssuer' } } }
  await other.apply(theirs as KubeObject, { dryRun: false, force: true })
  await issuer.apply(issuedSecret(ctx, 'registry-ui-tls'), { dryRun: false, force: true })
  const forTheirs = await run(ctx, off)
  assert.equal([forTheirs.failed, forTheirs.changed], [0, 0], failures(forTheirs) + stepsWith(forTheirs, 'changed').join(', '))
  assert.equal(await present(ctx, 'registry-ui-tls'), [true])
  assert.ok(await ctx.kube.get({ apiVersion: 'cert-manager.io/v1', kind: 'Certificate', namespace: ctx.ns, name: 'registry-ui-tls' }))
})

/** What cert-manager writes for a Certificate: a kubernetes.io/tls Secret annotated with the Certificate's name. */
function issuedSecret(ctx: Ctx, certificateName: string): KubeObject {
  return {
    apiVersion: 'v1',
    kind: 'Secret',
    type: 'kubernetes.io/tls',
    metadata: { name: 'registry-ui-tls', namespace: ctx.ns, annotations: { [CERTIFICATE_NAME_ANNOTATION]: certificateName, 'cert-manager.io/issuer-name': 'x', 'cert-manager.io/issuer-kind': 'ClusterIssuer' } },
    data: { 'tls.crt': '', 'tls.key': '' },
  } as KubeObject
}

Lab('renaming registry.auth.credentialsSecretName keeps every user\'s password: carried into the new Secret, then the old one goes', async (ctx) => {
  const current = { auth: { secretName: 'registry-auth-v2' }, ui: { enabled: false } }
  const settled = await run(ctx, writeTestConfig(ctx.kubeconfigPath, overrides(ctx, current)))
  assert.is(settled.failed, 0, failures(settled))
  const oldName = 'registry-credentials'
  const before = await storedSecretValue(ctx.kube, { name: oldName, namespace: ctx.ns }, 'admin')
  assert.ok(before, 'the generated admin password is stored')
  const renamed = writeTestConfig(ctx.kubeconfigPath, overrides(ctx, { ...current, auth: { ...current.auth, credentialsSecretName: 'registry-credentials-v2' } }))
  const applied = await run(ctx, renamed)
  assert.is(applied.failed, 0, failures(applied))
  assert.is(await storedSecretValue(ctx.kube, { name: 'registry-credentials-v2', namespace: ctx.ns }, 'admin'), before, 'the rename gave admin a new password')
  assert.is(await storedSecretValue(ctx.kube, { name: 'registry-credentials-v2', namespace: ctx.ns }, 'ci'), env.HOMELAB_REGISTRY__USERS__1__PASSWORD)
  assert.equal(await present(ctx, oldName, 'registry-credentials-v2'), [false, true])
  assert.not.ok(ctx.capture.all().includes(before!), 'a password reached the output')
  const again = await run(ctx, renamed)
  assert.equal([again.failed, again.changed], [0, 0], failures(again) + stepsWith(again, 'changed').join(', '))
})

Lab.run()
