import { spawnSync } from 'node:child_process'
import { mkdirSync, mkdtempSync, readFileSync, writeFileSync } from 'node:fs'
import { tmpdir } from 'node:os'
import { join } from 'node:path'
import { setTimeout as sleep } from 'node:timers/promises'
import { Secret, type RunResult } from '@homelab/core'
import { runWithLabHosts, writeRegistryAuthFile, reportHookErrors } from '@homelab/lab'
import { suite } from 'uvu'
import * as assert from 'uvu/assert'
import {
  buildImage, checkTlsChain, createDistributionClient, parseHtpasswd, pullImage, registry, RegistryVerifyError, storedSecretValue, VERIFY_REPOSITORY, writeOciLayout,
} from '../src/index.js'
import { failures, OutputCapture, runComponent, stepsWith } from './fixtures/lab-run.js'
import { CI_PASSWORD, registryInLab, type LabRegistry } from './fixtures/registry-in-lab.js'

type Ctx = { reg: LabRegistry; capture: OutputCapture; dir: string; passwords: string[] }
const Verify = suite<Ctx>('registry verify against the lab (bootstrapped registry run by the lab controller)', {} as Ctx)

const VERIFY_STEPS = 7 // TLS, anonymous 401, two users, push/pull/delete, UI, metrics

const verify = (ctx: Ctx, options: { plan?: boolean; env?: Record<string, string> } = {}) =>
  runComponent(registry, { configPath: ctx.reg.configPath, capture: ctx.capture, env: options.env ?? ctx.reg.env, verb: 'verify', plan: options.plan ?? false })

const statusOf = (run: RunResult, prefix: string) => run.results.find((r) => r.step.startsWith(prefix))?.status

const jobsIn = async (ctx: Ctx) => (await ctx.reg.kube.list('batch/v1', 'Job', { namespace: ctx.reg.ns })).map((j) => j.metadata.name)

const htpasswdOf = async (ctx: Ctx) => (await storedSecretValue(ctx.reg.kube, { name: 'registry-auth', namespace: ctx.reg.ns }, 'htpasswd')) ?? ''

function apacheVerifies(text: string, name: string, password: string): boolean {
  const file = join(mkdtempSync(join(tmpdir(), 'htpasswd-')), 'htpasswd')
  writeFileSync(file, text, { mode: 0o600 })
  return spawnSync('htpasswd', ['-vi', file, name], { input: password, encoding: 'utf8' }).status === 0
}

Verify.before(reportHookErrors(async (ctx) => {
  ctx.reg = await registryInLab('reg-verify')
  ctx.capture = ctx.reg.capture
  ctx.dir = mkdtempSync(join(tmpdir(), 'registry-verify-'))
  ctx.passwords = [CI_PASSWORD]
}))

Verify.after(async (ctx) => {
  await ctx.reg?.stop()
})

Verify('verify --plan runs the read-only checks and skips the push and the metrics Job', async (ctx) => {
  const run = await verify(ctx, { plan: true })
  assert.is(run.failed, 0, failures(run))
  assert.equal(stepsWith(run, 'skipped'), [`registry metrics: registry_ series on the debug port (read by an in-cluster Job)`, `registry push, pull by digest and delete of ${VERIFY_REPOSITORY}`])
  assert.is(run.ok, VERIFY_STEPS - 2)
  const client = await ctx.reg.client()
  assert.not.ok((await client.catalog()).includes(VERIFY_REPOSITORY), 'nothing was pushed')
  await client.close()
  assert.equal(await jobsIn(ctx), [])
})

Verify('verify passes end to end: TLS to the CA, 401/200 per user, push + pull by digest + delete, UI, metrics', async (ctx) => {
  const run = await verify(ctx)
  assert.is(run.failed, 0, failures(run))
  assert.is(run.ok, VERIFY_STEPS, JSON.stringify(run.results.map((r) => [r.step, r.status])))
  const client = await ctx.reg.client()
  assert.ok((await client.catalog()).includes(VERIFY_REPOSITORY), 'the verify image was pushed')
  assert.equal(await client.tags(VERIFY_REPOSITORY), [], 'and its manifest deleted again')
  await client.close()
  assert.equal(await jobsIn(ctx), [], 'the metrics Job is deleted after its result is read')
})

Verify('a second verify pushes its own tag and leaves nothing behind either', async (ctx) => {
  const run = await verify(ctx)
  assert.is(run.ok, VERIFY_STEPS, failures(run))
  const client = await ctx.reg.client()
  assert.equal(await client.tags(VERIFY_REPOSITORY), [])
  await client.close()
})

Verify('a user whose password the registry refuses fails only its own step; the rest still run', async (ctx) => {
  const run = await verify(ctx, { env: { HOMELAB_REGISTRY__USERS__1__PASSWORD: 'a-password-the-registry-never-saw' } })
  assert.equal(stepsWith(run, 'failed'), ['registry /v2/ accepts user ci'])
  assert.match(run.results.find((r) => r.status === 'failed')!.error!, /refused user ci \(401\).*run bootstrap/)
  assert.is(run.ok, VERIFY_STEPS - 1)
})

Verify('the TLS check trusts only the given CA: another CA, or a name without a certificate, fails with what was served', async (ctx) => {
  const other = spawnSync('openssl', ['req', '-x509', '-newkey', 'ec', '-pkeyopt', 'ec_paramgen_curve:prime256v1', '-nodes', '-keyout', join(ctx.dir, 'other.key'), '-out', join(ctx.dir, 'other.crt'), '-subj', '/CN=some other CA', '-days', '1'])
  assert.is(other.status, 0, String(other.stderr))
  const target = { host: ctx.reg.host, connectTo: ctx.reg.traefikIp, caSource: 'a test CA', timeoutMs: 10_000 }
  assert.match((await checkTlsChain({ ...target, ca: await ctx.reg.caPem() })).issuer, /CN=/)
  for (const [ca, host, served] of [[readFileSync(join(ctx.dir, 'other.crt'), 'utf8'), ctx.reg.host, /served: CN=.* issued by CN=/], [await ctx.reg.caPem(), `nothing-${ctx.reg.ns}.homelab.local`, /TRAEFIK DEFAULT CERT/]] as const) {
    try {
      await checkTlsChain({ ...target, host, ca })
      assert.unreachable()
    } catch (error) {
      assert.instance(error, RegistryVerifyError)
      assert.match((error as Error).message, /is not trusted with the homelab CA from a test CA/)
      assert.match((error as Error).message, served)
      assert.match((error as Error).message, /tls\.secretName/)
    }
  }
})

Verify('skopeo copy pushes an OCI layout built on the fly and pulls it back by digest, byte for byte', async (ctx) => {
  const image = buildImage([{ 'etc/base.txt': 'shared base\n' }, { 'app/hello.txt': `hello from ${ctx.reg.ns}\n` }])
  const layout = writeOciLayout(join(ctx.dir, 'layout'), [{ tag: 'hello', image }])
  const authFile = writeRegistryAuthFile(join(ctx.dir, 'auth.json'), ctx.reg.host, 'ci', CI_PASSWORD)
  const certDir = join(ctx.dir, 'certs')
  mkdirSync(certDir)
  writeFileSync(join(certDir, 'ca.crt'), await ctx.reg.caPem())
  const hosts = { [ctx.reg.host]: ctx.reg.traefikIp }
  const ref = `docker://${ctx.reg.host}/test/skopeo`
  await runWithLabHosts(['skopeo', 'copy', '--authfile', authFile, '--dest-cert-dir', certDir, `oci:${layout}:hello`, `${ref}:1`], { hosts })
  const client = await ctx.reg.client('ci')
  const stored = await client.headManifest('test/skopeo', '1')
  assert.is(stored?.digest, image.manifest.digest, 'skopeo pushed the layout manifest unchanged')
  const back = join(ctx.dir, 'back')
  await runWithLabHosts(['skopeo', 'copy', '--authfile', authFile, '--src-cert-dir', certDir, `${ref}@${image.manifest.digest}`, `oci:${back}:back`], { hosts })
  for (const blob of [image.manifest, image.config, ...image.layers]) {
    assert.ok(readFileSync(join(back, 'blobs/sha256', blob.digest.slice(7))).equals(blob.bytes), `skopeo pulled ${blob.digest} back unchanged`)
  }
  const pulled = await pullImage(client, 'test/skopeo', image.manifest.digest)
  assert.ok(pulled.blobs.get(image.layers[1]!.digest)?.equals(image.layers[1]!.bytes))
  await client.close()
})

Verify("a changed password changes exactly that htpasswd line; the running registry takes it without a restart", async (ctx) => {
  const newPassword = 'ci-password-rotated-in-the-test-2'
  ctx.passwords.push(newPassword)
  const before = parseHtpasswd(await htpasswdOf(ctx))
  const pid = ctx.reg.registryPid()
  assert.ok(pid, 'the lab runs the registry')
  const run = await runComponent(registry, { configPath: ctx.reg.configPath, capture: ctx.capture, env: { HOMELAB_REGISTRY__USERS__1__PASSWORD: newPassword } })
  // kube-public/local-registry-hosting is one object for the whole lab: other test files' registries rewrite it.
  assert.equal(stepsWith(run, 'changed').filter((s) => !s.includes('kube-public/')), [`apply Secret ${ctx.reg.ns}/registry-auth`, `apply Secret ${ctx.reg.ns}/registry-credentials`])
  const after = parseHtpasswd(await htpasswdOf(ctx))
  assert.is(after.get('admin'), before.get('admin'), "admin's line is untouched")
  assert.is.not(after.get('ci'), before.get('ci'))
  assert.ok(apacheVerifies(await htpasswdOf(ctx), 'ci', newPassword), 'htpasswd -v accepts the new password')
  assert.not.ok(apacheVerifies(await htpasswdOf(ctx), 'ci', CI_PASSWORD), 'and refuses the old one')
  const ping = async (password: string) => {
    const client = createDistributionClient({ baseUrl: `https://${ctx.reg.host}`, ca: await ctx.reg.caPem(), resolve: { [ctx.reg.host]: ctx.reg.traefikIp }, auth: { username: 'ci', password: new Secret(password) } })
    return client.ping().finally(() => client.close())
  }
  // The kubelet swaps the mounted Secret in place; Distribution re-reads htpasswd when its mtime changes.
  for (let i = 0; (await ping(newPassword)) !== 200; i++) {
    assert.ok(i < 100, 'the new password is accepted within 20 s')
    await sleep(200)
  }
  assert.is(await ping(CI_PASSWORD), 401, 'the old password is refused')
  assert.is(ctx.reg.registryPid(), pid, 'by the same registry process')
  const verified = await verify(ctx, { env: { HOMELAB_REGISTRY__USERS__1__PASSWORD: newPassword } })
  assert.is(verified.failed, 0, failures(verified))
})

Verify('no password, bcrypt hash or http.secret value appears in anything printed', async (ctx) => {
  const admin = (await ctx.reg.password('admin')).reveal()
  const http = await storedSecretValue(ctx.reg.kube, { name: 'registry-http-secret', namespace: ctx.reg.ns }, 'secret')
  const hashes = [...parseHtpasswd(await htpasswdOf(ctx)).values()].map((line) => line.slice(line.indexOf(':') + 1))
  const printed = ctx.capture.all()
  assert.ok(printed.length > 1000, 'the runs printed their steps')
  for (const value of [admin, http!, ...ctx.passwords, ...hashes]) assert.not.ok(printed.includes(value), `a secret value (${value.length} chars) was printed`)
  assert.not.match(printed, /\$2[aby]\$\d\d\$/)
})

Verify.run()
