import { randomBytes } from 'node:crypto'
import { StepSkipped, type HomelabConfig, type KubeClient, type RunResult, type ToolContext, acquireRunLock, type RunLock } from '@homelab/core'
import { GcError } from '../errors/gc-error.js'
import { endpointClient, registryEndpoint, storedRegistryPasswords } from '../registry-endpoint.js'
import { checkTagsPull } from '../registry-pull-check.js'
import { describeGcReport, formatBytes, type GcReport } from './gc-output.js'
import { runGcJob, waitForGcPodsGone } from './gc-job.js'
import { phaseRunner, type PhaseOutcome, type PhaseRunner } from './phase-runner.js'
import { applyRegistryMode, readRegistryMode, waitForRegistryRollout, type RegistryMode } from './registry-read-only.js'

export type GcOptions = {
  yes: boolean
  plan: boolean
  /** --delete-untagged or registry.gc.deleteUntagged. */
  deleteUntagged: boolean
  /** Asks the operator; undefined when there is no terminal to ask on (then only --yes goes ahead). */
  confirm: ((question: string, signal: AbortSignal) => Promise<boolean>) | undefined
  /** Test seam: runs once the read-only registry is up, before the dry run. */
  afterReadOnly?: () => Promise<void>
  runId?: string
}

export const GC_PHASES = {
  check: 'check the registry config and mode',
  plan: 'plan: what garbage-collect would free',
  readOnly: 'switch the registry read-only',
  readOnlyRollout: 'restart it read-only and wait for the rollout',
  dryRun: 'garbage-collect --dry-run on the read-only registry',
  confirm: 'confirm the deletion',
  collect: 'garbage-collect',
  readWrite: 'put the registry back to read-write',
  readWriteRollout: 'restart it read-write and wait for the rollout',
  pull: 'verify that every tag still pulls',
} as const

const COLLECT_ORDER = [GC_PHASES.plan, GC_PHASES.readOnly, GC_PHASES.readOnlyRollout, GC_PHASES.dryRun, GC_PHASES.confirm, GC_PHASES.collect] as const

export const DELETE_UNTAGGED_WARNING =
  '--delete-untagged also deletes every manifest no tag points at; on Distribution 2.8 that includes the per-platform manifests of multi-arch images, which breaks them (distribution#3178, #3004; fixed only in v3)'

type Gc = {
  kube: KubeClient
  config: HomelabConfig
  options: GcOptions
  signal: AbortSignal
  force: boolean
  runId: string
  progress: (message: string) => void
  /** Set once the registry may be read-only (switched by this run, or left so by an interrupted one). */
  mayBeReadOnly: boolean
  /** Why collecting stopped before the end, for the restore line. */
  stoppedBy: string | undefined
  /** The registry's run lock, held from the start (none under --plan). */
  lock?: RunLock
}

/**
 * The GC runbook: plan → read-only → restart → dry run → confirm → garbage-collect → read-write → restart → pull
 * check. Whatever stops it (a failure, a refusal, SIGINT), a registry this run made read-only, or found read-only, is
 * put back to read-write before it returns. Each phase is one step line.
 */
export async function runGcRunbook(ctx: ToolContext, options: GcOptions): Promise<RunResult> {
  const run = phaseRunner(ctx.reporter, `registry gc (${ctx.config.registry.namespace})`, options.plan)
  const gc: Gc = {
    kube: ctx.kube(), config: ctx.config, options, signal: ctx.signal, force: ctx.forceConflicts,
    runId: options.runId ?? `${Date.now().toString(36)}${randomBytes(2).toString('hex')}`,
    progress: (message) => ctx.reporter.progress('registry gc', message),
    mayBeReadOnly: false, stoppedBy: undefined,
  }
  // The registry's bootstrap takes the same lock: run during the read-only window it would switch it back early.
  let lock: RunLock | undefined
  if (!options.plan) {
    try {
      lock = gc.lock = await acquireRunLock(gc.kube, { namespace: ctx.config.kubernetes.namespace, name: 'registry', task: 'registry gc' })
    } catch (error) {
      await run.phase('run lock', () => Promise.reject(error))
      return run.finish()
    }
  }
  try {
    await collect(gc, run)
  } finally {
    if (gc.mayBeReadOnly && !options.plan) await restore(gc, run)
    await lock?.release()
  }
  return run.finish()
}

/** A phase that first checks for an interrupt, so Ctrl-C stops before the next change, never in the middle of one. */
async function phase(gc: Gc, run: PhaseRunner, name: string, work: () => Promise<PhaseOutcome>): Promise<boolean> {
  const status = await run.phase(name, async () => {
    if (gc.signal.aborted) throw new GcError('interrupted before this phase started')
    return work()
  })
  if (status === 'failed' || status === 'skipped') gc.stoppedBy ??= `"${name}" ${status}`
  return status === 'ok' || status === 'changed'
}

function skipAfter(run: PhaseRunner, last: string, reason: string): void {
  for (const name of COLLECT_ORDER.slice(COLLECT_ORDER.indexOf(last as (typeof COLLECT_ORDER)[number]) + 1)) run.skip(name, reason)
}

const gcJobTimeoutMs = (config: HomelabConfig) => Math.max(config.timeouts.rollout.milliseconds, 30 * 60_000) // a big registry takes long to mark
const nothingEligible = (report: GcReport) => report.emptyRegistry || report.eligibleBlobs + report.eligibleManifests === 0

async function dryRun(gc: Gc, name: string): Promise<GcReport> {
  return runGcJob(gc.kube, gc.config.registry, { name, dryRun: true, deleteUntagged: gc.options.deleteUntagged, timeoutMs: gcJobTimeoutMs(gc.config), signal: gc.signal, progress: gc.progress })
}

const reportLines = (gc: Gc, report: GcReport) => [...describeGcReport(report), ...(gc.options.deleteUntagged ? [DELETE_UNTAGGED_WARNING] : [])]

async function collect(gc: Gc, run: PhaseRunner): Promise<void> {
  let mode: RegistryMode = 'read-write'
  const checked = await phase(gc, run, GC_PHASES.check, async () => {
    mode = await readRegistryMode(gc.kube, gc.config.registry)
    if (mode === 'read-write') return { status: 'ok' }
    gc.mayBeReadOnly = true
    return { status: 'ok', lines: ['the registry is read-only: a gc run was interrupted; this run finishes it (or stops) and puts it back to read-write'] }
  })
  if (!checked) return skipAfter(run, GC_PHASES.check, 'the registry is not in a state GC can start from')
  let plan: GcReport | undefined
  if (!(await phase(gc, run, GC_PHASES.plan, async () => ({ status: 'ok', lines: reportLines(gc, (plan = await dryRun(gc, `registry-gc-plan-${gc.runId}`))) })))) {
    return skipAfter(run, GC_PHASES.plan, 'the plan failed')
  }
  if (nothingEligible(plan!)) return skipAfter(run, GC_PHASES.plan, 'nothing to collect; the registry was not touched')
  if (gc.options.plan) return skipAfter(run, GC_PHASES.plan, '--plan changes nothing')
  if (!gc.options.yes && !gc.options.confirm) {
    await phase(gc, run, GC_PHASES.confirm, async () => {
      throw new GcError('no terminal to ask on and no --yes: stopping before the registry is made read-only; nothing was deleted', { hint: 're-run with --yes to collect' })
    })
    return skipAfter(run, GC_PHASES.confirm, 'not confirmed')
  }
  await collectReadOnly(gc, run, mode)
}

/** The part that runs with the registry read-only: every write it refuses (405) is one that GC cannot corrupt. */
async function collectReadOnly(gc: Gc, run: PhaseRunner, mode: RegistryMode): Promise<void> {
  gc.mayBeReadOnly = true
  const switched = await phase(gc, run, GC_PHASES.readOnly, async () => {
    const lines = await applyRegistryMode(gc.kube, gc.config.registry, 'read-only', { force: gc.force })
    return { status: lines.length > 0 ? 'changed' : 'ok', lines: lines.length > 0 ? lines : [`already read-only${mode === 'read-only' ? ', as the interrupted run left it' : ''}`] }
  })
  if (!switched) return skipAfter(run, GC_PHASES.readOnly, 'the registry could not be made read-only')
  const rolledOut = await phase(gc, run, GC_PHASES.readOnlyRollout, async () => {
    await waitForRegistryRollout(gc.kube, gc.config.registry, { timeoutMs: gc.config.timeouts.rollout.milliseconds, signal: gc.signal, progress: gc.progress })
    await gc.options.afterReadOnly?.()
    return { status: 'ok' }
  })
  if (!rolledOut) return skipAfter(run, GC_PHASES.readOnlyRollout, 'the read-only registry did not come up')
  let report: GcReport | undefined
  if (!(await phase(gc, run, GC_PHASES.dryRun, async () => ({ status: 'ok', lines: reportLines(gc, (report = await dryRun(gc, `registry-gc-dry-run-${gc.runId}`))) })))) {
    return skipAfter(run, GC_PHASES.dryRun, 'the dry run failed')
  }
  if (nothingEligible(report!)) return skipAfter(run, GC_PHASES.dryRun, 'nothing to collect')
  if (!(await phase(gc, run, GC_PHASES.confirm, () => confirmCollection(gc, report!)))) return skipAfter(run, GC_PHASES.confirm, 'not confirmed')
  await phase(gc, run, GC_PHASES.collect, async () => {
    await stillSafeToSweep(gc)
    const done = await runGcJob(gc.kube, gc.config.registry, {
      name: `registry-gc-${gc.runId}`, dryRun: false, deleteUntagged: gc.options.deleteUntagged, timeoutMs: gcJobTimeoutMs(gc.config), signal: gc.signal, progress: gc.progress,
    })
    const deleted = done.deleted || done.eligibleBlobs
    return { status: deleted + done.eligibleManifests > 0 ? 'changed' : 'ok', lines: [`deleted ${deleted} blobs (${formatBytes(report!.eligibleBytes)} freed), ${done.eligibleManifests} manifests`, ...(gc.options.deleteUntagged ? [DELETE_UNTAGGED_WARNING] : [])] }
  })
}

/**
 * Checked again at the last moment, after the dry run and the question, which may have taken long: a sweep is safe
 * only while the registry refuses writes, and only while this run holds the lock that keeps bootstrap (which renders
 * it read-write) away. A lock that lapsed meanwhile (renewals that failed, a clock far off) may have let one in.
 */
async function stillSafeToSweep(gc: Gc): Promise<void> {
  if (gc.lock && !(await gc.lock.stillHeld())) {
    throw new GcError('this run no longer holds the registry\'s run lock (it lapsed while waiting): nothing was deleted', { hint: 'run gc again' })
  }
  const mode = await readRegistryMode(gc.kube, gc.config.registry)
  if (mode !== 'read-only') throw new GcError(`the registry is ${mode} again (another run switched it back): nothing was deleted`, { hint: 'run gc again' })
}

async function confirmCollection(gc: Gc, report: GcReport): Promise<PhaseOutcome> {
  if (gc.options.yes) return { status: 'ok', lines: ['--yes'] }
  const { namespace } = gc.config.registry
  const question = `Delete ${report.eligibleBlobs} blobs (${formatBytes(report.eligibleBytes)}) and ${report.eligibleManifests} manifests from ${namespace}/registry-data${gc.options.deleteUntagged ? ' (with --delete-untagged)' : ''}? The registry stays read-only until this run ends.`
  const yes = await gc.options.confirm!(question, gc.signal)
  if (gc.signal.aborted) throw new GcError('interrupted at the confirmation')
  if (!yes) throw new StepSkipped('declined: nothing was deleted')
  return { status: 'ok', lines: ['confirmed'] }
}

/** Always after a run that may have left the registry read-only; never uses the (possibly aborted) run signal. */
async function restore(gc: Gc, run: PhaseRunner): Promise<void> {
  const { registry } = gc.config
  const restored = await run.phase(GC_PHASES.readWrite, async () => {
    try {
      await waitForGcPodsGone(gc.kube, registry.namespace, 120_000)
      const lines = await applyRegistryMode(gc.kube, registry, 'read-write', { force: gc.force })
      const why = gc.signal.aborted ? 'interrupted' : gc.stoppedBy
      return { status: lines.length > 0 ? 'changed' : 'ok', lines: [...lines, ...(why ? [`the runbook stopped early (${why}): the registry is read-write again`] : [])] }
    } catch (error) {
      throw new GcError(`the registry is still read-only: ${(error as Error).message}`, {
        cause: error,
        // Not bootstrap: it renders read-write but does not wait for a garbage-collect pod still running.
        hint: 'run `pnpm --filter registry run gc` again (it finds a read-only registry and restores it)',
      })
    }
  })
  if (restored === 'failed') return run.skip(GC_PHASES.readWriteRollout, 'the registry is still read-only')
  const rolledOut = await run.phase(GC_PHASES.readWriteRollout, async () => {
    await waitForRegistryRollout(gc.kube, registry, { timeoutMs: gc.config.timeouts.rollout.milliseconds, progress: gc.progress })
    return { status: 'ok' }
  })
  if (rolledOut === 'failed') return run.skip(GC_PHASES.pull, 'the registry did not come back')
  await run.phase(GC_PHASES.pull, () => pullCheck(gc))
}

async function pullCheck(gc: Gc): Promise<PhaseOutcome> {
  const [endpoint, users] = await Promise.all([registryEndpoint(gc.kube, gc.config), storedRegistryPasswords(gc.kube, gc.config.registry)])
  const client = endpointClient(endpoint, gc.config, { auth: users[0]! })
  try {
    const checked = await checkTagsPull(client)
    const partly = checked.checked < checked.tags ? ` (the first ${checked.checked} of ${checked.tags})` : ''
    return { status: 'ok', lines: [`${checked.checked} tags in ${checked.repositories} repositories pull${partly}: ${checked.blobs} blobs present`] }
  } finally {
    await client.close()
  }
}
