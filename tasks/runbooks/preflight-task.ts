import { COMMON_FLAGS, openToolContext, runSteps, runTask, type TaskIo } from '@homelab/core'
import { preflightSteps } from './preflight-steps.js'

/** The whole of `pnpm preflight` (and the first stage of `pnpm turbo bootstrap`): can bootstrap succeed here? */
export function runPreflightTask(io: TaskIo): Promise<number> {
  return runTask({ name: 'preflight', usage: 'preflight [--json] [--config FILE] [--kubeconfig FILE] [--accept-new-host-keys]', options: COMMON_FLAGS }, async ({ flags, reporter }) => {
    // Checks change nothing, so --plan (forwarded by the pipeline) is accepted and means the same run.
    const ctx = openToolContext({ flags: { ...flags, plan: false }, reporter, env: io.env, cwd: io.cwd, signal: io.signal, clients: io.clients })
    try {
      const steps = preflightSteps(ctx)
      // Every check only reads, and the access checks wait on one review together: none may hold up another.
      return await runSteps(steps, { title: 'preflight', plan: false, reporter, signal: ctx.signal, concurrency: steps.length })
    } finally {
      await ctx.close()
    }
  }, io)
}
