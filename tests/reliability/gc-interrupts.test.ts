// Ctrl-C in each phase of the registry gc runbook (plan → read-only → restart → dry-run Job → confirm → garbage-collect
// Job → read-write → restart → pull check), on a registry of the suite's own with garbage pushed before each run. The
// runbook runs as its own process (`packages/registry/tasks/gc.ts`; on a terminal for the confirmation), struck once
// its output shows the phase under way. Each: exit 130 saying to run again, the registry read-write and taking writes,
// no GC Job or pod left, and the next gc finishes. (Ctrl-C once the registry went read-only, during its restart, is
// kube-faults.test.ts's case.)
import { randomBytes } from 'node:crypto'
import { tmpdir } from 'node:os'
import { join } from 'node:path'
import { loadConfig, toolNamespace } from '@homelab/core'
import { repoRoot, reportHookErrors } from '@homelab/lab'
import { buildImage, endpointClient, gcTask, pushImage, registry, registryEndpoint, storedRegistryPasswords } from '@homelab/registry'
import { suite } from 'uvu'
import * as assert from 'uvu/assert'
import { deleteNamespace, useLabKube, type LabKube } from './support/lab-kube.js'
import { assertInterrupted, interruptOnTerminal, interruptTask, type InterruptedRun } from './support/interrupt.js'
import { KNOWN_SECRETS, LeakScan } from './support/leak-scan.js'
import { reliabilityCase } from './support/reliability-tally.js'
import { assertRegistryTakesWrites, registryIsReadOnly } from './support/registry-state.js'
import { runComponents, runWithIo, writeConfigFile } from './support/tool-run.js'

type Ctx = { lab: LabKube; scan: LeakScan; stamp: string; namespace: string; configPath: string }
const Gc = suite<Ctx>('Ctrl-C in each gc phase: exit 130, the registry read-write, no GC Job left, the next gc finishes', {} as Ctx)

const GC_TASK = () => join(repoRoot(), 'packages/registry/tasks/gc.ts')

/** Pushes an image and deletes it by digest: what GC then has to collect, so the runbook goes past its plan. */
async function pushGarbage(ctx: Ctx): Promise<void> {
  const config = loadConfig({ configPath: ctx.configPath, cwd: tmpdir(), env: {} })
  const [endpoint, users] = await Promise.all([registryEndpoint(ctx.lab.kube, config), storedRegistryPasswords(ctx.lab.kube, config.registry)])
  const client = endpointClient(endpoint, config, { auth: users[0]! })
  try {
    const image = buildImage([{ 'garbage.txt': `collect me ${randomBytes(8).toString('hex')}\n` }])
    const { digest } = await pushImage(client, 'reliability/garbage', 'doomed', image)
    await client.deleteManifest('reliability/garbage', digest)
  } finally {
    await client.close()
  }
}

/** After the interrupted run: read-write in its config and for real, and no GC Job or pod of it left behind. */
async function assertRegistryBack(ctx: Ctx, run: InterruptedRun): Promise<void> {
  assertInterrupted(run)
  assert.is(await registryIsReadOnly(ctx.lab.kube, ctx.namespace), false, `the interrupted gc left the registry read-only:\n${run.output}`)
  await assertRegistryTakesWrites(ctx.lab.kube, ctx.configPath)
  const jobs = await ctx.lab.kube.list('batch/v1', 'Job', { namespace: ctx.namespace })
  assert.equal(jobs.map((j) => j.metadata.name).filter((n) => n.startsWith('registry-gc')), [], 'a GC Job was left')
  const pods = await ctx.lab.kube.list('v1', 'Pod', { namespace: ctx.namespace, labelSelector: 'app.kubernetes.io/component=garbage-collect' })
  assert.equal(pods.map((p) => p.metadata.name), [], 'a deleting GC pod was left')
}

/** The next gc, run as a user would after the interrupt, finishes (and puts things right if anything was left). */
async function assertNextGcFinishes(ctx: Ctx): Promise<void> {
  const next = await runWithIo({ argv: ['--config', ctx.configPath, '--yes'], scan: ctx.scan, label: 'registry gc' }, (io) => gcTask(io, undefined))
  assert.is(next.code, 0, next.output)
  assert.is(await registryIsReadOnly(ctx.lab.kube, ctx.namespace), false)
}

const gcInterrupted = (ctx: Ctx, when: (output: string) => boolean) => interruptTask(GC_TASK(), ['--config', ctx.configPath, '--yes'], { scan: ctx.scan, when })

/** `when` for a phase that follows another: its marker must come after the line of the phase before. */
const after = (line: RegExp, marker: RegExp) => (output: string) => {
  const at = output.search(line)
  return at >= 0 && marker.test(output.slice(at))
}

Gc.before(reportHookErrors(async (ctx) => {
  ctx.lab = await useLabKube()
  ctx.scan = new LeakScan()
  ctx.stamp = Date.now().toString(36)
  ctx.namespace = `rel-gc-${ctx.stamp}`
  ctx.configPath = writeConfigFile({
    domain: 'homelab.local',
    ingress: { ip: '127.0.2.1' },
    kubernetes: { kubeconfig: ctx.lab.kubeconfigPath, namespace: `rel-gc-tool-${ctx.stamp}` },
    tls: { ca: { selfSignedIssuer: `rel-gc-${ctx.stamp}-selfsigned`, certificate: `rel-gc-${ctx.stamp}-root-ca`, secretName: `rel-gc-${ctx.stamp}-root-ca`, issuer: `rel-gc-${ctx.stamp}-ca` } },
    // Host names of its own: the shared lab's Traefik routes registry.homelab.local to whichever test applied it last.
    registry: { namespace: ctx.namespace, hosts: { registry: `${ctx.namespace}-reg`, ui: `${ctx.namespace}-ui` }, users: [{ name: 'admin', password: KNOWN_SECRETS.registryPassword }] },
    localstack: { enabled: false },
    dns: { piholes: [] },
    nodes: [],
    timeouts: { certificate: '60s', rollout: '90s' },
  })
  const bootstrap = await runComponents([toolNamespace, registry], 'bootstrap', { configPath: ctx.configPath, scan: ctx.scan })
  assert.is(bootstrap.code, 0, bootstrap.output)
  ctx.scan.startArgv()
}))

Gc.before.each(async (ctx) => {
  await pushGarbage(ctx)
})

Gc.after(async (ctx) => {
  ctx.scan?.stopArgv()
  if (!ctx.stamp) return
  for (const ns of [ctx.namespace, `rel-gc-tool-${ctx.stamp}`]) await deleteNamespace(ctx.lab?.kube, ns)
  for (const name of [`rel-gc-${ctx.stamp}-selfsigned`, `rel-gc-${ctx.stamp}-ca`]) await ctx.lab?.kube.delete({ apiVersion: 'cert-manager.io/v1', kind: 'ClusterIssuer', name })
  await ctx.lab?.kube.delete({ apiVersion: 'cert-manager.io/v1', kind: 'Certificate', name: `rel-gc-${ctx.stamp}-root-ca`, namespace: 'cert-manager' })
})

reliabilityCase(Gc, 'fault', 'Ctrl-C (SIGINT) during gc while its plan Job runs: the registry never made read-only, the Job deleted, exit 130; the next gc finishes', async (ctx) => {
  const run = await gcInterrupted(ctx, (o) => /waiting for Job \S+\/registry-gc-plan-/.test(o))
  assert.match(run.output, /failed\s+plan: what garbage-collect would free\n\s+interrupted while waiting for Job /)
  assert.not.match(run.output, /switch the registry read-only\n\s+~/)
  await assertRegistryBack(ctx, run)
  await assertNextGcFinishes(ctx)
})

reliabilityCase(Gc, 'fault', 'Ctrl-C (SIGINT) during gc as it switches the registry read-only: no restart is started, the registry is put back to read-write before exit 130, nothing deleted; the next gc finishes', async (ctx) => {
  const run = await gcInterrupted(ctx, (o) => /^ok\s+plan: what garbage-collect would free/m.test(o))
  // The switch is two applies, never cut in half: the signal stops the runbook at the next phase's start.
  assert.match(run.output, /(switch the registry read-only|restart it read-only and wait for the rollout)\n\s+interrupted before this phase started/)
  assert.match(run.output, /put the registry back to read-write/)
  assert.not.match(run.output, /^changed\s+garbage-collect$/m)
  await assertRegistryBack(ctx, run)
  await assertNextGcFinishes(ctx)
})

reliabilityCase(Gc, 'fault', 'Ctrl-C (SIGINT) during gc while its dry-run Job runs on the read-only registry: the Job deleted, read-write again, nothing deleted, exit 130; the next gc finishes', async (ctx) => {
  const run = await gcInterrupted(ctx, (o) => /waiting for Job \S+\/registry-gc-dry-run-/.test(o))
  assert.match(run.output, /failed\s+garbage-collect --dry-run on the read-only registry\n\s+interrupted while waiting for Job /)
  assert.match(run.output, /changed\s+put the registry back to read-write/)
  assert.not.match(run.output, /^changed\s+garbage-collect$/m)
  await assertRegistryBack(ctx, run)
  await assertNextGcFinishes(ctx)
})

reliabilityCase(Gc, 'fault', 'Ctrl-C typed at the gc confirmation prompt (on a terminal): nothing deleted, read-write again, exit 130; the next gc finishes', async (ctx) => {
  const run = await interruptOnTerminal(GC_TASK(), ['--config', ctx.configPath], { scan: ctx.scan, when: (o) => /Delete \d+ blobs .*\[y\/N\]/.test(o) })
  assert.match(run.output, /failed\s+confirm the deletion\n\s+interrupted at the confirmation/)
  assert.match(run.output, /put the registry back to read-write/)
  assert.not.match(run.output, /changed\s+garbage-collect\n/)
  await assertRegistryBack(ctx, run)
  await assertNextGcFinishes(ctx)
})

reliabilityCase(Gc, 'fault', 'Ctrl-C (SIGINT) during gc while the garbage-collect Job deletes: no GC pod left before the registry takes writes again, read-write, exit 130; the next gc finishes', async (ctx) => {
  const run = await gcInterrupted(ctx, (o) => /waiting for Job \S+\/registry-gc-[a-z0-9]+ to finish/.test(o))
  assert.match(run.output, /garbage-collect\n\s+(interrupted while waiting for Job |~ deleted)/)
  assert.match(run.output, /put the registry back to read-write/)
  await assertRegistryBack(ctx, run)
  await assertNextGcFinishes(ctx)
})

reliabilityCase(Gc, 'fault', 'Ctrl-C (SIGINT) during gc as it puts the registry back to read-write: the restore runs to its end (read-write, restarted, tags pull), exit 130; the next gc finishes', async (ctx) => {
  const run = await gcInterrupted(ctx, (o) => /^changed\s+garbage-collect$/m.test(o))
  assert.match(run.output, /changed\s+put the registry back to read-write/)
  assert.match(run.output, /ok\s+restart it read-write and wait for the rollout/)
  assert.match(run.output, /ok\s+verify that every tag still pulls/)
  await assertRegistryBack(ctx, run)
  await assertNextGcFinishes(ctx)
})

reliabilityCase(Gc, 'fault', 'Ctrl-C (SIGINT) during gc while the read-write registry restarts: the rollout is still awaited and the tags checked, exit 130; the next gc finishes', async (ctx) => {
  const run = await gcInterrupted(ctx, after(/changed\s+put the registry back to read-write/, /waiting for Deployment \S+\/registry rolled out/))
  assert.match(run.output, /ok\s+restart it read-write and wait for the rollout/)
  assert.match(run.output, /ok\s+verify that every tag still pulls/)
  await assertRegistryBack(ctx, run)
  await assertNextGcFinishes(ctx)
})

reliabilityCase(Gc, 'fault', 'Ctrl-C (SIGINT) during gc while it checks that every tag still pulls: the check finishes, the registry read-write, exit 130; the next gc finishes', async (ctx) => {
  const run = await gcInterrupted(ctx, (o) => /^ok\s+restart it read-write and wait for the rollout/m.test(o))
  assert.match(run.output, /ok\s+verify that every tag still pulls/)
  await assertRegistryBack(ctx, run)
  await assertNextGcFinishes(ctx)
})

Gc('no interrupted gc printed the registry password, in output or in any process argv', (ctx) => {
  ctx.scan.stopArgv()
  assert.ok(ctx.scan.samples > 0)
  assert.equal(ctx.scan.leaks, [])
})

Gc.run()
