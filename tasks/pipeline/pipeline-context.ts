import { parseArgs } from 'node:util'
import { COMMON_FLAGS, createReporter, nodeSshTargets, openToolContext, type ToolClients, type ToolContext } from '@homelab/core'
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

/**
 * The SSH handshakes with every node, started as soon as the graph shows a task that needs them, so they run while
 * the pipeline takes its lock and preflight checks the cluster. They go through the pool the tasks share; a handshake
 * that fails is reported by the step that asks for that node, as without this.
 */
export function openNodeConnections(ctx: ToolContext | undefined, graph: readonly GraphTask[]): void {
  if (!ctx || !graph.some((t) => NODE_TASK.test(t.taskId))) return
  for (const target of nodeSshTargets(ctx.config, ctx.acceptNewHostKeys)) ctx.ssh.session(target).catch(() => undefined)
}
