import { parseArgs } from 'node:util'
import { acquireRunLock, COMMON_FLAGS, createReporter, describeError, openToolContext, RunLockedError, type RunLock, type ToolClients } from '@homelab/core'

export type PipelineLock = { lock?: RunLock; refusal?: string }

/**
 * One whole bootstrap at a time. Each component also locks itself, but two pipelines could each win a different
 * component and both end half-done; this lock, taken before anything starts, stops the second one whole.
 * Only a bootstrap that changes things takes it. A config or cluster that cannot be reached here is left for
 * preflight to report, with its fix, as the pipeline's first step.
 */
export async function takePipelineLock(toolArgs: readonly string[], env: Record<string, string | undefined>, cwd: string, signal: AbortSignal, clients: ToolClients): Promise<PipelineLock> {
  const { values: flags } = parseArgs({ args: [...toolArgs], options: COMMON_FLAGS, strict: false, allowPositionals: true })
  if (flags.plan === true) return {}
  const silent = createReporter({ json: false, out: { write: () => true } })
  let ctx: ReturnType<typeof openToolContext>
  try {
    ctx = openToolContext({ flags: flags as Parameters<typeof openToolContext>[0]['flags'], reporter: silent, env, cwd, signal, clients })
  } catch {
    return {}
  }
  try {
    return { lock: await acquireRunLock(ctx.kube(), { namespace: ctx.config.kubernetes.namespace, name: 'pipeline', task: 'pnpm turbo bootstrap' }) }
  } catch (error) {
    return error instanceof RunLockedError ? { refusal: describeError(error) } : {}
  } finally {
    await ctx.close()
  }
}
