import type { ParseArgsConfig } from 'node:util'
import { COMMON_FLAGS, openToolContext, runComponents, runComponentTask, runTask, toolNamespace, type TaskIo, type ToolFlags } from '@homelab/core'
import { dns, dnsComponent } from './dns-component.js'

export type DnsVerb = 'sync' | 'plan' | 'verify' | 'prune'

const FLAGS = { ...COMMON_FLAGS, adopt: { type: 'boolean', default: false } } as const satisfies ParseArgsConfig['options']

/**
 * The whole of `tasks/<verb>.ts`. sync, plan and prune first make sure the tool's namespace exists: the owner list
 * lives there. `--adopt` takes over foreign records on wanted names; prune also removes owned records no longer wanted.
 */
export function runDnsTask(verb: DnsVerb, io: TaskIo): Promise<number> {
  if (verb === 'verify') return runComponentTask([dns], 'verify', io)
  const usage = `${verb} [--plan] [--json] [--config FILE] [--kubeconfig FILE]${verb === 'sync' ? ' [--adopt]' : ''}`
  return runTask({ name: `dns ${verb}`, usage, options: FLAGS }, async ({ flags: parsed, reporter }) => {
    // parseArgs' inferred type is lost through runTask's generic; these are exactly FLAGS.
    const flags = parsed as ToolFlags & { adopt: boolean }
    const ctx = openToolContext({ flags: { ...flags, plan: (flags.plan ?? false) || verb === 'plan' }, reporter, env: io.env, cwd: io.cwd, signal: io.signal, clients: io.clients })
    try {
      const component = dnsComponent({ adopt: flags.adopt, prune: verb === 'prune' })
      return await runComponents([toolNamespace, component], 'bootstrap', ctx)
    } finally {
      await ctx.close()
    }
  }, io)
}
