// `pnpm teardown [--plan] [--yes] [--delete-data]`: removes what the tool made and nothing else. Shows the plan
// first; changes only after a yes (typed, or --yes). PVCs stay unless --delete-data.
import { createInterface } from 'node:readline/promises'
import { acquireRunLock, COMMON_FLAGS, openToolContext, PIPELINE_LOCK, processIo, runSteps, runTask, UsageError } from '@homelab/core'
import { teardownSteps } from './runbooks/teardown-steps.js'

const FLAGS = { ...COMMON_FLAGS, 'delete-data': { type: 'boolean', default: false } } as const
const io = processIo()

async function confirmed(): Promise<boolean> {
  if (!process.stdin.isTTY) throw new UsageError('teardown changes things only after a yes: pass --yes (stdin is not a terminal to ask on)')
  const prompt = createInterface({ input: process.stdin, output: process.stderr })
  const answer = await prompt.question('Remove all of the above? Type "yes": ')
  prompt.close()
  return answer.trim() === 'yes'
}

process.exitCode = await runTask({ name: 'teardown', usage: 'teardown [--plan] [--yes] [--delete-data] [--json] [--config FILE] [--kubeconfig FILE]', options: FLAGS }, async ({ flags, reporter }) => {
  const options = { deleteData: flags['delete-data'] === true }
  const planCtx = openToolContext({ flags: { ...flags, plan: true }, reporter, env: io.env, cwd: io.cwd, signal: io.signal })
  try {
    const plan = await runSteps(await teardownSteps(planCtx, options), { title: 'teardown (plan)', plan: true, reporter, signal: io.signal, concurrency: 4 })
    if (flags.plan || plan.failed > 0) return plan
    if (plan.changed === 0) return plan
    if (!flags.yes && !(await confirmed())) {
      reporter.warn(undefined, 'nothing removed')
      return plan
    }
  } finally {
    await planCtx.close()
  }
  const ctx = openToolContext({ flags, reporter, env: io.env, cwd: io.cwd, signal: io.signal })
  try {
    // The pipeline's lock: no bootstrap, component run or gc may put back what this removes while it does.
    const lock = await acquireRunLock(ctx.kube(), { namespace: ctx.config.kubernetes.namespace, name: PIPELINE_LOCK, task: 'pnpm teardown' })
    try {
      return await runSteps(await teardownSteps(ctx, { ...options, heldLock: PIPELINE_LOCK }), { title: 'teardown', plan: false, reporter, signal: ctx.signal, concurrency: 4 })
    } finally {
      // Gone with the tool's namespace, unless something kept that.
      await lock.release().catch(() => undefined)
    }
  } finally {
    await ctx.close()
  }
}, io)
