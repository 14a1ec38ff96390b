import { acquireRunLock, describeError, RunLockedError, type RunLock, type ToolContext } from '@homelab/core'

export type PipelineLock = { lock?: RunLock; refusal?: string }

/**
 * One whole bootstrap at a time. Each component also locks itself, but two pipelines could each win a different
 * component and both end half-done; this lock, taken before anything starts, stops the second one whole.
 * Only a bootstrap that changes things takes it (the caller decides). A config or cluster that cannot be reached
 * here is left for preflight to report, with its fix, as the pipeline's first step.
 */
export async function takePipelineLock(ctx: ToolContext | undefined): Promise<PipelineLock> {
  if (!ctx || ctx.plan) return {}
  try {
    return { lock: await acquireRunLock(ctx.kube(), { namespace: ctx.config.kubernetes.namespace, name: 'pipeline', task: 'pnpm turbo bootstrap' }) }
  } catch (error) {
    return error instanceof RunLockedError ? { refusal: describeError(error) } : {}
  }
}
