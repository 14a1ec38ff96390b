import { parseArgs } from 'node:util'
import { COMMON_FLAGS, createReporter, nodeSshTargets, openToolContext, type ToolClients, type ToolContext } from '@homelab/core'
import { checkStoredHtpasswd } from '@homelab/registry'
import type { GraphTask } from './task-graph.js'

/**
 * The pipeline's own view of the run, from the same flags, environment and clients its tasks get: for the pipeline
 * lock and to open the node connections early. A config that does not load is left for preflight (or the first
 * task) to report with its fix: undefined here.
 */
export function openPipelineContext(toolArgs: readonly string[], env: Record<string, string | undefined>, cwd: string, signal: AbortSignal, clients: ToolClients): ToolContext | undefined {
  const { values: flags } = parseArgs({ args: [...toolArgs], options: COMMON_FLAGS, strict: false, allowPositionals: true })
  const silent = createReporter({ json: false, out: { write: () => true } })
  try {
    return openToolContext({ flags: flags as Parameters<typeof openToolContext>[0]['flags'], reporter: silent, env, cwd, signal, clients })
  } catch {
    return undefined
  }
}

/** Tasks that talk to the nodes over SSH. */
const NODE_TASK = /^(\/\/#preflight-nodes|@homelab\/node-trust#.*)$/
/** Tasks that check the stored htpasswd lines against the passwords. */
const HTPASSWD_TASK = /^@homelab\/registry#(bootstrap|plan)$/

/**
 * Work the graph's tasks will wait on, started as soon as the graph is known so it runs while preflight waits on the
 * nodes instead of after: the SSH handshakes with every node, and the bcrypt checks of the stored htpasswd lines.
 * Both only read and are shared with the tasks (the same pool, the same per-run answers); whatever fails here is
 * reported by the task that asks for it, as without this.
 */
export function startSharedWork(ctx: ToolContext | undefined, graph: readonly GraphTask[]): void {
  if (!ctx) return
  if (graph.some((t) => NODE_TASK.test(t.taskId))) {
    for (const target of nodeSshTargets(ctx.config, ctx.acceptNewHostKeys)) ctx.ssh.session(target).catch(() => undefined)
  }
  if (graph.some((t) => HTPASSWD_TASK.test(t.taskId))) checkStoredHtpasswd(ctx).catch(() => undefined)
}
