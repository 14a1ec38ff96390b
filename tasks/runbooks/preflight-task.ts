import { COMMON_FLAGS, openToolContext, runSteps, runTask, UsageError, type TaskIo } from '@homelab/core'
import { PREFLIGHT_PARTS, preflightSteps, type PreflightPart } from './preflight-steps.js'

const OPTIONS = { ...COMMON_FLAGS, only: { type: 'string' } } as const

/**
 * The whole of `pnpm preflight` (every check: can bootstrap succeed here?) and of the pipeline's two first stages,
 * `preflight-cluster` and `preflight-nodes` (`--only cluster|nodes`, or `part` from the pipeline).
 */
export function runPreflightTask(io: TaskIo, part?: PreflightPart): Promise<number> {
  const usage = `preflight [--only ${PREFLIGHT_PARTS.join('|')}] [--json] [--config FILE] [--kubeconfig FILE] [--accept-new-host-keys]`
  return runTask({ name: 'preflight', usage, options: OPTIONS }, async ({ flags, reporter }) => {
    const only = part ?? flags.only
    if (only !== undefined && !PREFLIGHT_PARTS.includes(only as PreflightPart)) throw new UsageError(`--only: expected one of ${PREFLIGHT_PARTS.join(', ')}, got "${only}"`)
    // Checks change nothing, so --plan (forwarded by the pipeline) is accepted and means the same run.
    const ctx = openToolContext({ flags: { ...flags, plan: false }, reporter, env: io.env, cwd: io.cwd, signal: io.signal, clients: io.clients })
    try {
      const title = only === undefined ? 'preflight' : `preflight ${only}`
      const steps = preflightSteps(ctx, only as PreflightPart | undefined)
      // Every check only reads, and the access checks wait on one review together: none may hold up another.
      return await runSteps(steps, { title, plan: false, reporter, signal: ctx.signal, concurrency: steps.length })
    } finally {
      await ctx.close()
    }
  }, io)
}
