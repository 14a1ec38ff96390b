import { mkdtempSync, writeFileSync } from 'node:fs'
import { tmpdir } from 'node:os'
import { join } from 'node:path'
import { suite } from 'uvu'
import * as assert from 'uvu/assert'
import { stringify } from 'yaml'
import { acquireRunLock, createKubeClient, parseConfig, Secret, type HomelabConfig, type KubeClient } from '@homelab/core'
import { labOptionsFromEnv, reportHookErrors, useLab } from '@homelab/lab'
import { runToolProcess } from '../lab/run-tool-process.js'
import { RunbookError } from '../runbooks/errors/runbook-error.js'
import { loginRefused, type RegistryEndpoint } from '../runbooks/registry-endpoint.js'
import { newPasswordWaitHint } from '../runbooks/rotate-credentials-steps.js'
import { rotationSecret, rotationState } from '../runbooks/rotation-state.js'

type Ctx = { kube: KubeClient; kubeconfigPath: string; ns: string; config: HomelabConfig }
const Rotate = suite<Ctx>('rotate-credentials: hints and resuming a recorded rotation', {} as Ctx)

const NEXT = 'next-password-never-shown-77'
const OLD = 'old-password-never-shown-42'
const config = (ns: string, registry: Record<string, unknown> = {}) =>
  parseConfig(stringify({ domain: 'homelab.local', ingress: { ip: '127.0.2.1' }, dns: { piholes: [] }, nodes: [], kubernetes: { namespace: ns }, registry: { users: [{ name: 'admin' }, { name: 'ci' }], ...registry } }), { sourceName: 'test-homelab.yaml', baseDir: '/tmp', env: {} })
const record = (ctx: Ctx, user: string) => ctx.kube.apply(rotationSecret(ctx.config, { user, next: new Secret(NEXT), previous: new Secret(OLD), resumed: false }), { dryRun: false, force: false })

Rotate.before(reportHookErrors(async (ctx) => {
  const lab = await useLab(labOptionsFromEnv(process.env))
  ctx.kube = createKubeClient({ kubeconfigPath: lab.kubeconfigPath, fieldManager: 'homelab-devtools' })
  ctx.kubeconfigPath = lab.kubeconfigPath
  ctx.ns = `rotate-${Date.now()}`
  ctx.config = config(ctx.ns)
  await ctx.kube.apply({ apiVersion: 'v1', kind: 'Namespace', metadata: { name: ctx.ns } }, { dryRun: false, force: false })
}))

Rotate.after(async (ctx) => {
  await ctx.kube?.delete({ apiVersion: 'v1', kind: 'Namespace', name: ctx.ns })
})

const endpoint = (htpasswdSecret: string) => ({ host: 'registry.homelab.local', htpasswdSecret }) as RegistryEndpoint
const login = { username: 'admin', password: new Secret(OLD) }

Rotate('an old password still accepted points at the htpasswd Secret the registry mounts, by its configured name', () => {
  const error = loginRefused(endpoint('registry/my-htpasswd'), login, 'rejected')
  assert.match(error.message, /still accepted/)
  assert.match(error.message, /Secret registry\/my-htpasswd was updated/)
  assert.not.match(error.message, /registry-auth/)
  assert.not.match(error.message, new RegExp(OLD))
  assert.match(loginRefused(endpoint('registry/my-htpasswd'), login, 'accepted').message, /registry\/my-htpasswd/)
})

Rotate('the wait for the new password says which Secret the registry must mount and that a re-run resumes', () => {
  const hint = newPasswordWaitHint(config('x', { namespace: 'reg', auth: { secretName: 'my-htpasswd' } }))
  assert.match(hint, /Deployment reg\/registry mounts Secret reg\/my-htpasswd \(registry\.auth\.secretName\)/)
  assert.match(hint, /kubectl -n reg get deploy registry/)
  assert.match(hint, /run rotate-credentials again, it resumes this rotation/)
})

Rotate('a recorded rotation of a configured user resumes with the recorded passwords', async (ctx) => {
  await record(ctx, 'ci')
  const state = await rotationState(ctx.kube, ctx.config, undefined)
  assert.equal([state.user, state.resumed, state.next.reveal(), state.previous?.reveal()], ['ci', true, NEXT, OLD])
})

Rotate('a recorded rotation of a user no longer in registry.users fails at once, naming the kubectl command that drops it', async (ctx) => {
  await record(ctx, 'gone')
  try {
    await rotationState(ctx.kube, ctx.config, undefined)
    assert.unreachable('a rotation of a removed user can never finish')
  } catch (e) {
    assert.instance(e, RunbookError)
    const message = (e as Error).message
    assert.match(message, /rotation of gone's password cannot finish: gone is no longer in registry\.users/)
    assert.ok(message.includes(`kubectl -n ${ctx.ns} delete secret registry-rotation`), message)
    for (const secret of [NEXT, OLD]) assert.not.ok(message.includes(secret), 'a password in the message')
  }
  assert.ok(await ctx.kube.get({ apiVersion: 'v1', kind: 'Secret', namespace: ctx.ns, name: 'registry-rotation' }), 'the record is left for the operator to delete')
})

Rotate('while another run holds a lock, rotate-credentials stops before anything: no record, no new password', async (ctx) => {
  const dir = mkdtempSync(join(tmpdir(), 'rotate-lock-'))
  const configPath = join(dir, 'homelab.yaml')
  writeFileSync(configPath, stringify({ domain: 'homelab.local', ingress: { ip: '127.0.2.1' }, dns: { piholes: [] }, nodes: [], kubernetes: { namespace: ctx.ns, kubeconfig: ctx.kubeconfigPath }, registry: { namespace: ctx.ns, users: [{ name: 'admin' }, { name: 'ci' }] } }))
  const rotationRecord = { apiVersion: 'v1', kind: 'Secret', namespace: ctx.ns, name: 'registry-rotation' }
  await ctx.kube.delete(rotationRecord)
  const dns = await acquireRunLock(ctx.kube, { namespace: ctx.ns, name: 'dns', task: 'dns sync' })
  try {
    const run = await runToolProcess('tasks/rotate-credentials.ts', ['--config', configPath, '--user', 'ci'])
    assert.is(run.code, 1, run.output)
    assert.match(run.output, new RegExp(`another run holds ${ctx.ns}/run-lock-dns: dns sync on `))
  } finally {
    await dns.release()
  }
  assert.is(await ctx.kube.get(rotationRecord), undefined)
  assert.is(await ctx.kube.get({ apiVersion: 'v1', kind: 'ConfigMap', namespace: ctx.ns, name: 'run-lock-pipeline' }), undefined, 'a refused run leaves no lock')
})

Rotate.run()
