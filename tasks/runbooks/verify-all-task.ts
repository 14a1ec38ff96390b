import { COMMON_FLAGS, openToolContext, runSteps, runTask, StepSkipped, type Component, type TaskIo } from '@homelab/core'
import { COMPONENTS } from '../components.js'
import { lastFullVerifyFailure, recordFullVerify } from './full-verify-record.js'
import { verifyAll } from './verify-all.js'

/**
 * The whole of `pnpm verify-all` (and the last stage of `pnpm turbo bootstrap`): every component's read-only checks.
 * As the pipeline's last stage after a run that changed and failed nothing, it verifies quickly: the services answer,
 * with TLS and credentials, but no image is pushed or pulled and no Job started. What did not move was proven by the
 * run that moved it; `pnpm verify-all` (or `pnpm turbo verify`) proves all of it again on demand. Unless the last full
 * verify failed: then the no-op run verifies in full again, until one passes (full-verify-record.ts).
 */
export function runVerifyAllTask(io: TaskIo, components: readonly Component[] = COMPONENTS): Promise<number> {
  return runTask({ name: 'verify', usage: 'verify-all [--quick] [--json] [--config FILE] [--kubeconfig FILE]', options: COMMON_FLAGS }, async ({ flags, reporter }) => {
    // `pnpm turbo bootstrap --plan`: nothing was applied, so there is nothing new to prove, and the full checks write
    // (test images, smoke resources) while the quick ones fail on what the plan only previews (a user not made yet).
    if (flags.plan) {
      const reason = '--plan applied nothing, so nothing new is verified; `pnpm verify-all` checks the homelab as it is'
      return runSteps([{ name: 'verify', check: () => Promise.reject(new StepSkipped(reason)), desired: () => null, diff: () => [] }], { title: 'verify', plan: true, reporter })
    }
    const before = io.pipelineSoFar?.()
    const noop = before !== undefined && before.changed === 0 && before.failed === 0
    const ctx = openToolContext({ flags, reporter, env: io.env, cwd: io.cwd, signal: io.signal, clients: io.clients })
    try {
      const namespace = ctx.config.kubernetes.namespace
      let quick = flags.quick
      if (noop && !flags.quick) {
        const failure = await lastFullVerifyFailure(ctx.kube(), namespace, reporter)
        quick = failure === undefined
        reporter.progress('verify', failure
          ? `this run changed nothing, but the last full verify failed (${failure.at}: ${failure.steps.join('; ')}): verifying in full`
          : 'this run changed nothing: quick checks only (no push, pull or Job); `pnpm verify-all` runs them all')
      }
      const results = await verifyAll(components, { ...ctx, quick })
      // An interrupted verify skipped what it did not reach: it neither found those checks failing nor passing.
      if (!quick && !io.signal.aborted) await recordFullVerify(ctx.kube(), namespace, results, reporter)
      return results
    } finally {
      await ctx.close()
    }
  }, io)
}
