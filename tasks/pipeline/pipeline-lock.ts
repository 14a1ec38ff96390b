import { acquireRunLock, describeError, PIPELINE_LOCK, RunLockedError, type RunLock, type ToolContext } from '@homelab/core'

export type PipelineLock = { lock?: RunLock; refusal?: string }

/**
 * One whole bootstrap at a time, and none while a component runs on its own (`pnpm --filter dns run sync`, registry
 * gc): taken before anything starts, it stops the second run whole instead of halfway. The pipeline's components
 * take no locks of their own (UNDER_PIPELINE_LOCK_ENV); a component run on its own checks this one.
 * Only a bootstrap that changes things takes it (the caller decides). A config or cluster that cannot be reached
 * here is left for preflight to report, with its fix, as the pipeline's first step.
 */
export async function takePipelineLock(ctx: ToolContext | undefined): Promise<PipelineLock> {
  if (!ctx || ctx.plan) return {}
  try {
    return { lock: await acquireRunLock(ctx.kube(), { namespace: ctx.config.kubernetes.namespace, name: PIPELINE_LOCK, task: 'pnpm turbo bootstrap' }) }
  } catch (error) {
    return error instanceof RunLockedError ? { refusal: describeError(error) } : {}
  }
}
