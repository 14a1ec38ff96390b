import { createKubeClient, MANAGED_BY, parseConfig, type KubeClient, type KubeObject } from '@homelab/core'
import { labOptionsFromEnv, reportHookErrors, useLab } from '@homelab/lab'
import { suite } from 'uvu'
import * as assert from 'uvu/assert'
import { appLabels, heldOldSecrets, oldAuthSecretsStep, planOldAuthSecrets, RegistryCredentialsError, resolveRegistryCredentials, SECRET_ROLE_LABEL, type ConfiguredAuthSecret } from '../src/index.js'

// ---- working out the passwords from the Secrets the lab's API server holds ------------------------------------------

const OURS = 'homelab-devtools'
const b64 = (s: string) => Buffer.from(s, 'utf8').toString('base64')
const text = (o: KubeObject, key: string) => Buffer.from(((o['data'] ?? {}) as Record<string, string>)[key] ?? '', 'base64').toString('utf8')

const credentialsSecret = (name: string, data: Record<string, string>, namespace = 'registry'): KubeObject => ({
  apiVersion: 'v1',
  kind: 'Secret',
  metadata: {
    name,
    namespace,
    labels: { ...appLabels('registry'), ...MANAGED_BY, [SECRET_ROLE_LABEL]: 'credentials' },
    managedFields: [{ manager: OURS, operation: 'Apply' }],
  },
  data: Object.fromEntries(Object.entries(data).map(([k, v]) => [k, b64(v)])),
})

type Ctx = { kube: KubeClient; namespaces: string[] }
let count = 0

/** A namespace of its own on the lab's API server, holding these Secrets as bootstrap writes them (our field manager). */
async function holding(ctx: Ctx, secrets: [string, Record<string, string>][]): Promise<string> {
  const namespace = `creds-${Date.now()}-${count++}`
  ctx.namespaces.push(namespace)
  await ctx.kube.apply({ apiVersion: 'v1', kind: 'Namespace', metadata: { name: namespace } }, { dryRun: false, force: true })
  for (const [name, data] of secrets) {
    const { managedFields: _, ...metadata } = credentialsSecret(name, data, namespace).metadata
    await ctx.kube.apply({ ...credentialsSecret(name, data, namespace), metadata }, { dryRun: false, force: true })
  }
  return namespace
}

const labHooks = (s: ReturnType<typeof suite<Ctx>>) => {
  s.before(reportHookErrors(async (ctx) => {
    const lab = await useLab(labOptionsFromEnv(process.env))
    ctx.kube = createKubeClient({ kubeconfigPath: lab.kubeconfigPath, fieldManager: OURS })
    ctx.namespaces = []
  }))
  s.after(async (ctx) => {
    for (const name of ctx.namespaces ?? []) await ctx.kube.delete({ apiVersion: 'v1', kind: 'Namespace', name })
  })
}

const registryConfig = (namespace: string, auth: string) =>
  parseConfig(`domain: home.arpa\nregistry:\n  namespace: ${namespace}\n  users: [{name: admin}, {name: carol}]\n  auth:\n${auth}`, { sourceName: 'x.yaml', baseDir: '/tmp', env: {} }).registry

const Resolve = suite<Ctx>('registry credentials after credentialsSecretName is renamed', {} as Ctx)
labHooks(Resolve)

Resolve('one old credentials Secret of ours: its passwords carry into the new one', async (ctx) => {
  const ns = await holding(ctx, [['registry-credentials', { admin: 'old-admin-pass-1', carol: 'old-carol-pass-1' }]])
  const resolved = await resolveRegistryCredentials(ctx.kube, registryConfig(ns, '    credentialsSecretName: creds-b\n'))
  assert.equal(resolved.generated, [])
  assert.equal([text(resolved.credentialsSecret, 'admin'), text(resolved.credentialsSecret, 'carol')], ['old-admin-pass-1', 'old-carol-pass-1'])
})

Resolve('two old credentials Secrets of ours (a rename interrupted, then another): refused, naming both and how to delete one', async (ctx) => {
  const ns = await holding(ctx, [
    ['registry-credentials', { admin: 'a-admin-pass-1', carol: 'a-carol-pass-1' }],
    ['creds-b', { admin: 'b-admin-pass-2', carol: 'b-carol-pass-2' }],
  ])
  try {
    await resolveRegistryCredentials(ctx.kube, registryConfig(ns, '    credentialsSecretName: creds-c\n'))
    assert.unreachable('passwords were worked out over two old Secrets')
  } catch (e) {
    assert.instance(e, RegistryCredentialsError)
    const message = (e as Error).message
    assert.match(message, `${ns}/creds-c does not exist yet`)
    assert.match(message, '(creds-b, registry-credentials)')
    assert.match(message, `kubectl -n ${ns} delete secret creds-b; kubectl -n ${ns} delete secret registry-credentials`)
    for (const value of ['a-admin-pass-1', 'a-carol-pass-1', 'b-admin-pass-2', 'b-carol-pass-2']) assert.not.ok(message.includes(value), 'a password is in the message')
  }
})

Resolve('two old credentials Secrets while the configured one exists: its passwords are used, nothing is refused', async (ctx) => {
  const ns = await holding(ctx, [
    ['registry-credentials', { admin: 'a-admin-pass-1', carol: 'a-carol-pass-1' }],
    ['creds-b', { admin: 'b-admin-pass-2', carol: 'b-carol-pass-2' }],
    ['creds-c', { admin: 'c-admin-pass-3', carol: 'c-carol-pass-3' }],
  ])
  const resolved = await resolveRegistryCredentials(ctx.kube, registryConfig(ns, '    credentialsSecretName: creds-c\n'))
  assert.equal([resolved.generated, text(resolved.credentialsSecret, 'carol')], [[], 'c-carol-pass-3'])
})

Resolve.run()

// ---- which old credentials Secrets may go once the configured one is applied ---------------------------------------

const Old = suite<Ctx>('old credentials Secrets that hold another password stay', {} as Ctx)
labHooks(Old)

const configuredFrom = (credentials: KubeObject): ConfiguredAuthSecret[] => [
  { role: 'credentials', name: credentials.metadata.name, key: 'registry.auth.credentialsSecretName', data: credentials['data'] as Record<string, string> },
  { role: 'htpasswd', name: 'registry-auth', key: 'registry.auth.secretName' },
]
const names = (old: { ref: { name: string } }[]) => old.map((o) => o.ref.name)

Old('renamed back (A to B, carol rotated in B, config back to A): B, with the newer password, stays; the warning names B and carol only', async (ctx) => {
  const ns = await holding(ctx, [
    ['registry-credentials', { admin: 'p1-admin-pass', carol: 'p1-carol-pass' }],
    ['creds-b', { admin: 'p1-admin-pass', carol: 'p2-carol-rotated' }],
  ])
  const objects = await ctx.kube.list('v1', 'Secret', { namespace: ns })
  const resolved = await resolveRegistryCredentials(ctx.kube, registryConfig(ns, '    credentialsSecretName: registry-credentials\n'))
  const configured = configuredFrom(resolved.credentialsSecret)
  assert.equal(names(planOldAuthSecrets(objects, configured, OURS)), [])
  assert.equal(heldOldSecrets(objects, configured, OURS).map((h) => [h.ref.name, h.users]), [['creds-b', ['carol']]])
  const warnings: string[] = []
  const step = oldAuthSecretsStep(ctx.kube, {
    namespace: ns,
    configured,
    deployment: { apiVersion: 'apps/v1', kind: 'Deployment', namespace: ns, name: 'registry' },
    rolloutTimeout: { milliseconds: 10 } as never,
    needs: [],
  })
  const current = await step.check({ plan: true, progress: () => undefined, warn: (m) => void warnings.push(m), signal: new AbortController().signal })
  assert.equal(step.diff(current, null), [])
  assert.is(warnings.length, 1)
  assert.match(warnings[0]!, new RegExp(`Secret ${ns}/creds-b stays: .*${ns}/registry-credentials \\(registry\\.auth\\.credentialsSecretName\\) for carol\\b`))
  assert.match(warnings[0]!, new RegExp(`set registry\\.auth\\.credentialsSecretName: creds-b .*kubectl -n ${ns} delete secret creds-b`))
  for (const value of ['p1-admin-pass', 'p1-carol-pass', 'p2-carol-rotated']) assert.not.ok(warnings[0]!.includes(value), 'a password is in the warning')
})

const heldCases: [string, Record<string, string>, string[]][] = [
  ['the same passwords as the configured Secret: goes', { admin: 'admin-now', carol: 'carol-now' }, ['old-creds']],
  ['only a user no longer configured (users remove): goes', { dave: 'dave-gone' }, ['old-creds']],
  ['no data at all: goes', {}, ['old-creds']],
  ['another password for a configured user: stays', { admin: 'admin-now', carol: 'carol-other' }, []],
]
// Pure, so in a suite of their own: they run without the lab too.
const Held = suite('an old credentials Secret goes only when it holds no other password for a configured user')
for (const [name, data, out] of heldCases) {
  Held(`an old credentials Secret with ${name}`, () => {
    const configured = configuredFrom(credentialsSecret('creds-now', { admin: 'admin-now', carol: 'carol-now' }))
    assert.equal(names(planOldAuthSecrets([credentialsSecret('old-creds', data)], configured, OURS)), out)
  })
}

Old.run()
Held.run()
