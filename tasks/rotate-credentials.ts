// `pnpm rotate-credentials [--user NAME]`: a new registry password, rolled out to the registry and every node, proven
// by a pull on each node and the old password refused. Interrupted, the next run finishes the same rotation; one
// recorded for a user no longer in registry.users cannot finish, so the run stops at once and names the kubectl
// command that deletes the record (Secret <kubernetes.namespace>/registry-rotation).
import { acquireRunLock, COMMON_FLAGS, openToolContext, PIPELINE_LOCK, processIo, runSteps, runTask, type RunLock } from '@homelab/core'
import { rotateCredentialsSteps } from './runbooks/rotate-credentials-steps.js'
import { rotationState } from './runbooks/rotation-state.js'

const FLAGS = { ...COMMON_FLAGS, user: { type: 'string' } } as const
const io = processIo()
process.exitCode = await runTask({ name: 'rotate-credentials', usage: 'rotate-credentials [--user NAME] [--plan] [--json] [--config FILE] [--kubeconfig FILE]', options: FLAGS }, async ({ flags, reporter }) => {
  const ctx = openToolContext({ flags, reporter, env: io.env, cwd: io.cwd, signal: io.signal })
  // The pipeline's lock: a bootstrap beside it would read the old password and give it back to the Secret and nodes.
  let lock: RunLock | undefined
  try {
    if (!ctx.plan) lock = await acquireRunLock(ctx.kube(), { namespace: ctx.config.kubernetes.namespace, name: PIPELINE_LOCK, task: 'pnpm rotate-credentials' })
    const state = await rotationState(ctx.kube(), ctx.config, flags.user as string | undefined)
    if (state.resumed) reporter.warn(undefined, `finishing the unfinished rotation of ${state.user}'s password`)
    const steps = await rotateCredentialsSteps(ctx, state)
    return await runSteps(steps, { title: `rotate-credentials ${state.user}`, plan: ctx.plan, reporter, signal: ctx.signal, concurrency: 4 })
  } finally {
    await lock?.release().catch(() => undefined)
    await ctx.close()
  }
}, io)
