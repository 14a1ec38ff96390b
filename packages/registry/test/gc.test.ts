import { existsSync, readdirSync, readFileSync, statSync, writeFileSync } from 'node:fs'
import { tmpdir } from 'node:os'
import { dirname, join } from 'node:path'
import { parse, stringify } from 'yaml'
import { acquireRunLock, createKubeClient } from '@homelab/core'
import { reportHookErrors } from '@homelab/lab'
import { suite } from 'uvu'
import * as assert from 'uvu/assert'
import {
  applyRegistryMode, buildImage, DELETE_UNTAGGED_WARNING, describeGcReport, formatBytes, gcScript, gcTask, parseGcReport, parseHtpasswd, pullImage,
  pushImage, readRegistryMode, registry, RegistryError, renderModeObjects, storedSecretValue, waitForRegistryRollout, type DistributionClient, type GcOptions, type GcTaskHooks,
  type OciImage,
} from '../src/index.js'
import { failures, runComponent, stepsWith } from './fixtures/lab-run.js'
import { registryInLab, type LabRegistry } from './fixtures/registry-in-lab.js'

type Ctx = { reg: LabRegistry; admin: DistributionClient; images: Record<'a' | 'b', OciImage>; printed: string[] }
const Gc = suite<Ctx>('registry gc runbook against the lab registry (real garbage-collect Jobs on its PVC folder)', {} as Ctx)

const base = { 'etc/base.txt': 'a base layer both images share\n'.repeat(50) }

/** digest → bytes of every blob the registry keeps on disk (`blobs/sha256/xx/<hex>/data`). */
function blobsOnDisk(storageDir: string): Map<string, number> {
  const root = join(storageDir, 'docker/registry/v2/blobs/sha256')
  const out = new Map<string, number>()
  for (const prefix of existsSync(root) ? readdirSync(root) : []) {
    for (const hex of readdirSync(join(root, prefix))) {
      const data = join(root, prefix, hex, 'data')
      if (existsSync(data)) out.set(`sha256:${hex}`, statSync(data).size)
    }
  }
  return out
}

const bytesOf = (blobs: Map<string, number>) => [...blobs.values()].reduce((a, b) => a + b, 0)

type GcRun = { code: number; output: string }

async function gc(ctx: Ctx, args: string[], options: { confirm?: GcOptions['confirm']; hooks?: GcTaskHooks; signal?: AbortSignal; configPath?: string } = {}): Promise<GcRun> {
  let output = ''
  const out = { write: (s: string) => void (output += s) }
  const io = { argv: [...args, '--config', options.configPath ?? ctx.reg.configPath], env: { HOME: tmpdir(), ...ctx.reg.env }, cwd: tmpdir(), stdout: out, stderr: out, signal: options.signal ?? new AbortController().signal }
  const code = await gcTask(io, options.confirm, options.hooks)
  ctx.printed.push(output)
  return { code, output }
}

const mode = (ctx: Ctx) => readRegistryMode(ctx.reg.kube, ctx.reg.config().registry)

/** Pushes an image and deletes it by digest: what a `docker rmi` through the UI leaves for GC. */
async function pushAndDelete(ctx: Ctx, repo: string, image: OciImage): Promise<void> {
  const { digest } = await pushImage(ctx.admin, repo, 'doomed', image)
  await ctx.admin.deleteManifest(repo, digest)
}

Gc.before(reportHookErrors(async (ctx) => {
  ctx.reg = await registryInLab('reg-gc')
  ctx.admin = await ctx.reg.client('admin')
  ctx.printed = []
  ctx.images = { a: buildImage([base, { 'app/a.txt': 'image a\n' }]), b: buildImage([base, { 'app/b.txt': 'image b\n' }]) }
  await pushImage(ctx.admin, 'test/app', 'a', ctx.images.a)
  const b = await pushImage(ctx.admin, 'test/app', 'b', ctx.images.b)
  assert.is(b.present, 1, 'b shares its base layer with a')
  await ctx.admin.deleteManifest('test/app', b.digest)
}))

Gc.after(async (ctx) => {
  await ctx.admin?.close()
  await ctx.reg?.stop()
})

Gc('gc --plan reports what would be freed and changes nothing: no read-only, no restart, no deletion', async (ctx) => {
  const disk = blobsOnDisk(ctx.reg.storageDir)
  const pid = ctx.reg.registryPid()
  const { code, output } = await gc(ctx, ['--plan'])
  assert.is(code, 0, output)
  assert.match(output, /plan: what garbage-collect would free\n\s+~ 3 blobs eligible for deletion \(\d+(\.\d)? (B|KiB)\), 0 manifests/)
  assert.match(output, /repositories: test\/app/)
  assert.match(output, /skipped\s+switch the registry read-only: --plan changes nothing/)
  assert.not.match(output, /delete-untagged/, 'never --delete-untagged unless asked')
  assert.is(await mode(ctx), 'read-write')
  assert.is(ctx.reg.registryPid(), pid)
  assert.equal(blobsOnDisk(ctx.reg.storageDir), disk)
  assert.equal(await ctx.reg.kube.list('batch/v1', 'Job', { namespace: ctx.reg.ns }), [], 'the dry-run Job is deleted after its result is read')
})

Gc('--delete-untagged is used only when asked, and then the reason it is dangerous on 2.8 is shown', async (ctx) => {
  const { code, output } = await gc(ctx, ['--plan', '--delete-untagged'])
  assert.is(code, 0, output)
  assert.ok(output.includes(DELETE_UNTAGGED_WARNING), output)
  assert.match(output, /multi-arch/)
})

Gc('without --yes and without a terminal, gc stops before the registry is made read-only', async (ctx) => {
  const pid = ctx.reg.registryPid()
  const disk = blobsOnDisk(ctx.reg.storageDir)
  const { code, output } = await gc(ctx, [])
  assert.is(code, 1, output)
  assert.match(output, /failed\s+confirm the deletion\n\s+no terminal to ask on and no --yes: stopping before the registry is made read-only; nothing was deleted; re-run with --yes/)
  assert.is(await mode(ctx), 'read-write')
  assert.is(ctx.reg.registryPid(), pid, 'no restart')
  assert.equal(blobsOnDisk(ctx.reg.storageDir), disk)
})

Gc('a declined confirmation deletes nothing and puts the registry back to read-write', async (ctx) => {
  const disk = blobsOnDisk(ctx.reg.storageDir)
  const questions: string[] = []
  const { code, output } = await gc(ctx, [], { confirm: async (question) => (questions.push(question), false) })
  assert.is(code, 0, output)
  assert.match(questions[0] ?? '', /^Delete 3 blobs \(.+\) and 0 manifests from reg-gc-\w+\/registry-data\? The registry stays read-only until this run ends\.$/)
  assert.match(output, /skipped\s+confirm the deletion: declined: nothing was deleted/)
  assert.match(output, /changed\s+put the registry back to read-write/)
  assert.match(output, /ok\s+verify that every tag still pulls/)
  assert.is(await mode(ctx), 'read-write')
  assert.equal(blobsOnDisk(ctx.reg.storageDir), disk)
})

Gc('a registry switched back to read-write while gc asks (a bootstrap a lapsed lock let in) is not swept: nothing deleted', async (ctx) => {
  const disk = blobsOnDisk(ctx.reg.storageDir)
  const { code, output } = await gc(ctx, [], {
    confirm: async () => {
      await applyRegistryMode(ctx.reg.kube, ctx.reg.config().registry, 'read-write', { force: true })
      return true
    },
  })
  assert.is(code, 1, output)
  assert.match(output, /the registry is read-write again \(another run switched it back\): nothing was deleted/, output)
  assert.equal(blobsOnDisk(ctx.reg.storageDir), disk)
  await waitForRegistryRollout(ctx.reg.kube, ctx.reg.config().registry, { timeoutMs: 60_000 })
  assert.is(await mode(ctx), 'read-write')
})

Gc('gc --yes frees exactly the blobs only the deleted image used; the other still pulls; a push while read-only gets 405', async (ctx) => {
  const { a, b } = ctx.images
  const before = blobsOnDisk(ctx.reg.storageDir)
  const onlyB = [b.manifest, b.config, b.layers[1]!].map((x) => x.digest)
  for (const digest of [...onlyB, a.manifest.digest, a.config.digest, ...a.layers.map((l) => l.digest)]) assert.ok(before.has(digest), `${digest} is on disk before`)
  const refused: unknown[] = []
  const afterReadOnly = async () => {
    assert.is((await ctx.admin.headManifest('test/app', 'a'))?.digest, a.manifest.digest, 'reads work while read-only')
    refused.push(await pushImage(ctx.admin, 'test/app', 'during-gc', buildImage([{ 'c.txt': 'pushed during GC\n' }])).catch((error: unknown) => error))
  }
  const { code, output } = await gc(ctx, ['--yes'], { hooks: { afterReadOnly } })
  assert.is(code, 0, output)
  assert.instance(refused[0], RegistryError)
  assert.is((refused[0] as RegistryError).status, 405)
  const after = blobsOnDisk(ctx.reg.storageDir)
  for (const digest of onlyB) assert.not.ok(after.has(digest), `${digest} (only b's) is gone`)
  for (const digest of [a.manifest.digest, a.config.digest, ...a.layers.map((l) => l.digest)]) assert.ok(after.has(digest), `${digest} (a's) is kept`)
  assert.is(bytesOf(before) - bytesOf(after), onlyB.reduce((sum, d) => sum + before.get(d)!, 0), 'exactly those bytes were freed')
  const pulled = await pullImage(ctx.admin, 'test/app', 'a')
  assert.ok(pulled.manifest.bytes.equals(a.manifest.bytes))
  for (const layer of a.layers) assert.ok(pulled.blobs.get(layer.digest)?.equals(layer.bytes))
  assert.match(output, /changed\s+garbage-collect\n\s+~ deleted 3 blobs/)
  assert.is(await mode(ctx), 'read-write')
  assert.equal(await ctx.reg.kube.list('batch/v1', 'Job', { namespace: ctx.reg.ns }), [], 'every GC Job is deleted once read')
  assert.equal(await ctx.reg.kube.list('v1', 'Pod', { namespace: ctx.reg.ns, labelSelector: 'app.kubernetes.io/component=garbage-collect' }), [])
  await pushImage(ctx.admin, 'test/app', 'after-gc', buildImage([{ 'd.txt': 'pushed after GC\n' }]))
})

Gc('after a gc the registry objects are exactly what bootstrap renders: a bootstrap plan shows no change', async (ctx) => {
  const plan = await runComponent(registry, { configPath: ctx.reg.configPath, capture: ctx.reg.capture, env: ctx.reg.env, plan: true })
  assert.is(plan.failed, 0, failures(plan))
  assert.equal(stepsWith(plan, 'changed').filter((s) => !s.includes('kube-public/')), [])
})

Gc('an interrupted gc (abort once read-only) puts the registry back to read-write and deletes nothing', async (ctx) => {
  const doomed = buildImage([{ 'doomed.txt': 'interrupted\n' }])
  await pushAndDelete(ctx, 'test/interrupt', doomed)
  const controller = new AbortController()
  const { code, output } = await gc(ctx, ['--yes'], { signal: controller.signal, hooks: { afterReadOnly: async () => controller.abort() } })
  assert.is(code, 130, output) // interrupted: not done, whatever the steps said
  assert.match(output, /failed\s+garbage-collect --dry-run on the read-only registry\n\s+interrupted before this phase started/)
  assert.match(output, /skipped\s+garbage-collect: /)
  assert.match(output, /changed\s+put the registry back to read-write\n(.*\n)*\s+~ the runbook stopped early \(interrupted\): the registry is read-write again/)
  assert.is(await mode(ctx), 'read-write')
  assert.ok(blobsOnDisk(ctx.reg.storageDir).has(doomed.layers[0]!.digest), 'nothing was deleted')
  await pushImage(ctx.admin, 'test/interrupt', 'after', buildImage([{ 'e.txt': 'after the interrupt\n' }]))
})

Gc('a registry left read-only by an interrupted run is found by the next gc and put back to read-write', async (ctx) => {
  const { registry: config } = ctx.reg.config()
  await applyRegistryMode(ctx.reg.kube, config, 'read-only', { force: false })
  await waitForRegistryRollout(ctx.reg.kube, config, { timeoutMs: 60_000 })
  const refused = await ctx.admin.uploadBlob('test/app', Buffer.from('left read-only')).catch((error: unknown) => error)
  assert.is((refused as RegistryError).status, 405, 'the registry really is read-only')
  const { code, output } = await gc(ctx, [])
  assert.is(code, 1, output)
  assert.match(output, /ok\s+check the registry config and mode\n\s+~ the registry is read-only: a gc run was interrupted/)
  assert.match(output, /changed\s+put the registry back to read-write/)
  assert.is(await mode(ctx), 'read-write')
  await ctx.admin.uploadBlob('test/app', Buffer.from('writable again'))
})

Gc('a restore that fails says the registry is still read-only and to run gc again, never bootstrap (it would not wait for a running garbage-collect)', async (ctx) => {
  const { registry: config } = ctx.reg.config()
  await applyRegistryMode(ctx.reg.kube, config, 'read-only', { force: false })
  await waitForRegistryRollout(ctx.reg.kube, config, { timeoutMs: 60_000 })
  // Another manager now co-owns config.yml, so the read-write apply (no --force-conflicts) is refused with a conflict.
  const other = createKubeClient({ kubeconfigPath: ctx.reg.lab.kubeconfigPath, fieldManager: 'someone-else' })
  const configMap = { apiVersion: 'v1', kind: 'ConfigMap', metadata: { name: 'registry-config', namespace: ctx.reg.ns }, data: { 'config.yml': renderModeObjects(config, 'read-only').text } }
  await other.apply(configMap, { dryRun: false, force: false })
  try {
    const { code, output } = await gc(ctx, [])
    assert.is(code, 1, output)
    assert.match(output, /failed\s+put the registry back to read-write\n\s+the registry is still read-only: .*run `pnpm --filter registry run gc` again \(it finds a read-only registry and restores it\)/)
    assert.not.match(output, /run bootstrap/)
    assert.is(await mode(ctx), 'read-only')
  } finally {
    await applyRegistryMode(ctx.reg.kube, config, 'read-write', { force: true })
    await waitForRegistryRollout(ctx.reg.kube, config, { timeoutMs: 60_000 })
  }
  assert.is(await mode(ctx), 'read-write')
})

const reports: [string, string, number, Partial<ReturnType<typeof parseGcReport>>][] = [
  ['a dry run with garbage', 'exit: 0\nsummary: 4 blobs marked, 3 blobs and 1 manifests eligible for deletion\neligible-bytes: 2048\ndeleted: 0\nrepository: lib/app\nrepository: other', 0,
    { marked: 4, eligibleBlobs: 3, eligibleManifests: 1, eligibleBytes: 2048, repositories: ['lib/app', 'other'], emptyRegistry: false }],
  ['a real run', 'exit: 0\nsummary: 4 blobs marked, 3 blobs and 0 manifests eligible for deletion\neligible-bytes: 0\ndeleted: 3\nrepository: lib/app', 0, { deleted: 3, eligibleBlobs: 3 }],
  ['a registry nobody pushed to', 'exit: 1\neligible-bytes: 0\ndeleted: 0\nerror: failed to garbage collect: failed to mark: filesystem: Path not found: /docker/registry/v2/repositories', 1,
    { emptyRegistry: true, marked: undefined, eligibleBlobs: 0 }],
  ['a failure', 'exit: 1\nerror: configuration error: open /etc/docker/registry/config.yml: no such file', 1, { emptyRegistry: false, errorTail: 'configuration error: open /etc/docker/registry/config.yml: no such file' }],
]
for (const [name, message, exitCode, want] of reports) {
  Gc(`parseGcReport: ${name}`, () => {
    const report = parseGcReport(message, exitCode)
    for (const [key, value] of Object.entries(want)) assert.equal(report[key as keyof typeof report], value, key)
  })
}

Gc('a homelab.yaml whose registry Deployment differs from the cluster\'s in more than its mode: gc refuses and restarts nothing', async (ctx) => {
  // Beside the lab's own config, so its relative paths still hold; only the registry's memory limit differs.
  const edited = join(dirname(ctx.reg.configPath), 'homelab-edited.yaml')
  const doc = parse(readFileSync(ctx.reg.configPath, 'utf8')) as { registry: Record<string, unknown> }
  doc.registry['resources'] = { requests: { memory: '256Mi', cpu: '100m' }, limits: { memory: '640Mi', cpu: '500m' } }
  writeFileSync(edited, stringify(doc), { mode: 0o600 })
  const pid = ctx.reg.registryPid()
  const { code, output } = await gc(ctx, ['--yes'], { configPath: edited })
  assert.is(code, 1, output)
  assert.match(output, /Deployment \S+\/registry differs from what homelab.yaml renders/, output)
  assert.is(await mode(ctx), 'read-write')
  assert.is(ctx.reg.registryPid(), pid, 'the registry was not restarted')
})

Gc('gc refuses to start while a registry bootstrap holds the run lock, and changes nothing', async (ctx) => {
  const held = await acquireRunLock(ctx.reg.kube, { namespace: ctx.reg.config().kubernetes.namespace, name: 'registry', task: 'registry bootstrap' })
  const pid = ctx.reg.registryPid()
  try {
    const { code, output } = await gc(ctx, ['--yes'])
    assert.is(code, 1, output)
    assert.match(output, /failed\s+run lock\n\s+another run holds .*run-lock-registry: registry bootstrap/)
    assert.is(await mode(ctx), 'read-write')
    assert.is(ctx.reg.registryPid(), pid)
  } finally {
    await held.release()
  }
})

Gc('describeGcReport and formatBytes say it in words', () => {
  assert.equal(describeGcReport(parseGcReport(reports[0]![1], 0)), ['3 blobs eligible for deletion (2.0 KiB), 1 manifests; 4 blobs still in use', 'repositories: lib/app, other'])
  assert.equal(describeGcReport(parseGcReport(reports[2]![1], 1)), ['the registry holds no repositories yet: nothing to collect'])
  assert.equal([0, 1023, 1536, 5 * 1024 ** 3].map(formatBytes), ['0 B', '1023 B', '1.5 KiB', '5.0 GiB'])
})

Gc('gcScript passes --dry-run and --delete-untagged only when asked, and reads the config the Job mounts', () => {
  const script = (dryRun: boolean, deleteUntagged: boolean) => gcScript({ dryRun, deleteUntagged, configPath: '/etc/docker/registry/config.yml', rootDirectory: '/var/lib/registry' })
  assert.match(script(true, false).split('\n')[0]!, /^registry garbage-collect --dry-run \/etc\/docker\/registry\/config\.yml > /)
  assert.not.match(script(false, false), /--dry-run|--delete-untagged/)
  assert.match(script(false, true), /garbage-collect --delete-untagged /)
  assert.match(script(true, false), /\/var\/lib\/registry\/docker\/registry\/v2\/blobs\/sha256/)
})

Gc('no password, bcrypt hash or http.secret value appears in anything gc printed', async (ctx) => {
  const admin = (await ctx.reg.password('admin')).reveal()
  const http = await storedSecretValue(ctx.reg.kube, { name: 'registry-http-secret', namespace: ctx.reg.ns }, 'secret')
  const htpasswd = (await storedSecretValue(ctx.reg.kube, { name: 'registry-auth', namespace: ctx.reg.ns }, 'htpasswd')) ?? ''
  const hashes = [...parseHtpasswd(htpasswd).values()].map((line) => line.slice(line.indexOf(':') + 1))
  const printed = ctx.printed.join('\n') + ctx.reg.capture.all()
  assert.ok(ctx.printed.length >= 7)
  for (const value of [admin, http!, ...hashes]) assert.not.ok(printed.includes(value), `a secret value (${value.length} chars) was printed`)
  assert.not.match(printed, /\$2[aby]\$\d\d\$/)
})

Gc.run()
