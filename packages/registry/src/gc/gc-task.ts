import { COMMON_FLAGS, openToolContext, runTask, type TaskIo, type ToolFlags } from '@homelab/core'
import { runGcRunbook, type GcOptions } from './gc-runbook.js'

export const GC_FLAGS = { ...COMMON_FLAGS, 'delete-untagged': { type: 'boolean', default: false } } as const

export const GC_USAGE = 'gc [--yes] [--plan] [--delete-untagged] [--json] [--config FILE] [--kubeconfig FILE] [--force-conflicts]'

export type GcTaskHooks = Pick<GcOptions, 'afterReadOnly' | 'runId'>

/**
 * The whole `gc` task on a TaskIo, so tests run it in-process. `confirm` asks on the terminal; undefined when there
 * is none, and then only --yes collects.
 */
export function gcTask(io: TaskIo, confirm: GcOptions['confirm'], hooks: GcTaskHooks = {}): Promise<number> {
  return runTask({ name: 'registry gc', usage: GC_USAGE, options: GC_FLAGS }, async ({ flags, reporter }) => {
    const ctx = openToolContext({ flags: flags as ToolFlags, reporter, env: io.env, cwd: io.cwd, signal: io.signal })
    try {
      const deleteUntagged = flags['delete-untagged'] || ctx.config.registry.gc.deleteUntagged
      return await runGcRunbook(ctx, { yes: ctx.yes, plan: ctx.plan, deleteUntagged, confirm, ...hooks })
    } finally {
      await ctx.close()
    }
  }, io)
}
