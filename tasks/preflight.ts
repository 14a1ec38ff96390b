// `pnpm preflight` (and the first stage of `pnpm turbo bootstrap`): can bootstrap succeed here? One line per check.
import { COMMON_FLAGS, openToolContext, processIo, runSteps, runTask } from '@homelab/core'
import { preflightSteps } from './runbooks/preflight-steps.js'

const io = processIo()
process.exitCode = await runTask({ name: 'preflight', usage: 'preflight [--json] [--config FILE] [--kubeconfig FILE] [--accept-new-host-keys]', options: COMMON_FLAGS }, async ({ flags, reporter }) => {
  // Checks change nothing, so --plan (forwarded by the pipeline) is accepted and means the same run.
  const ctx = openToolContext({ flags: { ...flags, plan: false }, reporter, env: io.env, cwd: io.cwd, signal: io.signal })
  try {
    return await runSteps(preflightSteps(ctx), { title: 'preflight', plan: false, reporter, signal: ctx.signal, concurrency: 8 })
  } finally {
    await ctx.close()
  }
}, io)
