import { spawn } from 'node:child_process'
import { existsSync } from 'node:fs'
import { join } from 'node:path'
import { createInterface } from 'node:readline'
import { createReporter, describeError, EXIT, ToolClients, UNDER_PIPELINE_LOCK_ENV, UsageError, type TaskIo } from '@homelab/core'
import { isFiltered, parsePipelineArgs, pipelineEnvironment, ROOT_TASKS, turboRunArgv, type PipelineArgs } from './pipeline-args.js'
import { openNodeConnections, openPipelineContext } from './pipeline-context.js'
import { takePipelineLock } from './pipeline-lock.js'
import { separateProcessesExitCode, turboTaskFailure } from './pipeline-exit-code.js'
import { batchedOutput, pipelineOutput, type PipelineOutput } from './pipeline-output.js'
import { PIPELINE_TASK_ENTRIES } from './pipeline-tasks.js'
import { runGraphInProcess } from './run-in-process.js'
import { turboTaskGraph, type GraphTask } from './task-graph.js'
import { cachedTaskGraph } from './task-graph-cache.js'
import { TaskGraphError } from './task-graph-error.js'

const ROOT = join(import.meta.dirname, '..', '..')
export const TURBO_BIN = join(ROOT, 'node_modules', '.bin', 'turbo')
const GRAPH_CACHE = join(ROOT, 'node_modules', '.cache', 'homelab-devtools', 'turbo-graph')

type Pipeline = Extract<PipelineArgs, { kind: 'pipeline' }>

const USAGE = 'pnpm turbo bootstrap|plan|verify [turbo\'s flags] [--plan --json --config <file> --kubeconfig <file> …]'

/**
 * `pnpm turbo …`, the one place its exit code is made: a pipeline, or any other turbo command handed to turbo as it
 * is. Bad usage is reported like a task reports it (one event under --json), not as a stack trace: exit 2.
 */
export async function pnpmTurbo(io: TaskIo): Promise<number> {
  let args: PipelineArgs
  try {
    args = parsePipelineArgs(io.argv)
  } catch (error) {
    if (!(error instanceof UsageError)) throw error
    createReporter({ json: io.argv.includes('--json'), out: io.stdout }).error(`${describeError(error)}\nusage: ${USAGE}`)
    return EXIT.usage
  }
  if (args.kind === 'pipeline') return runTurboPipeline(args, io)
  const child = spawn(TURBO_BIN, args.args, { stdio: 'inherit' })
  return new Promise<number>((resolve) => {
    // turbo missing (node_modules not installed): a message, not a crash with a stack trace.
    child.once('error', (error) => {
      createReporter({ json: false, out: io.stdout }).error(`cannot run ${TURBO_BIN}: ${error.message}; run pnpm install first`)
      resolve(127)
    })
    child.once('close', (code) => resolve(code ?? 1))
  })
}

/**
 * `pnpm turbo bootstrap|plan|verify`: turbo.json's graph, every task's output relayed with its prefix (under --json
 * each event gains `task`), a total at the end. By default turbo resolves the graph and this process runs it;
 * `--separate-processes` has turbo run each task as its own process, as `pnpm exec turbo run …` does.
 */
export async function runTurboPipeline(args: Pipeline, io: TaskIo): Promise<number> {
  const batched = batchedOutput(io)
  try {
    return await runPipeline(args, { ...io, stdout: batched.stdout, stderr: batched.stderr })
  } finally {
    batched.close()
  }
}

async function runPipeline(args: Pipeline, io: TaskIo): Promise<number> {
  const { env, toolArgs } = pipelineEnvironment(args, io.cwd, io.env, existsSync)
  const turboEnv = () => ({ ...env, TURBO_NO_UPDATE_NOTIFIER: '1', TURBO_TELEMETRY_DISABLED: '1' })
  const output = pipelineOutput(args.json, io)
  // turbo resolves the graph (or the cache answers) while the lock is taken: neither needs the other.
  const turboArgv = turboRunArgv({ ...args, toolArgs: [] })
  const resolveGraph = () => cachedTaskGraph({ root: ROOT, cacheDir: GRAPH_CACHE, argv: turboArgv, env, resolveGraph: () => turboTaskGraph(TURBO_BIN, turboArgv, { cwd: ROOT, env: turboEnv() }) })
  const graph = args.separateProcesses ? undefined : resolveGraph()
  // Turbo runs a --separate-processes pipeline itself, but a filtered one's root stages come from the graph too.
  const checkedGraph = graph ?? (isFiltered(args.turboArgs) ? resolveGraph() : undefined)
  checkedGraph?.catch(() => undefined)
  // One set of connections and one config for the lock and every task run here: one TLS handshake per server, one
  // SSH connection per node, opened as soon as the graph shows a task that needs them.
  const clients = new ToolClients()
  const ctx = openPipelineContext(toolArgs, env, io.cwd, io.signal, clients)
  graph?.then((tasks) => openNodeConnections(ctx, tasks), () => undefined)
  let code: number
  try {
    const locking = args.verb === 'bootstrap' ? takePipelineLock(ctx) : Promise.resolve({ lock: undefined, refusal: undefined })
    // A graph turbo cannot make (a --filter that names no package) is the answer, whatever the lock says; a lock taken
    // meanwhile is given back at once.
    const graphError = await checkedGraph?.then(() => undefined, (error: unknown) => error)
    if (graphError instanceof TaskGraphError) {
      await locking.then(({ lock }) => lock?.release(), () => undefined).catch(() => undefined)
      createReporter({ json: args.json, out: io.stdout }).error(describeError(graphError))
      return EXIT.usage
    }
    const { lock, refusal } = await locking
    if (refusal) {
      createReporter({ json: args.json, out: io.stdout }).error(`${refusal}\nNothing was started: two bootstraps at once would each converge part of the homelab.`)
      return EXIT.failed
    }
    // The tasks converge under this lock: their components take none of their own. (The same env object every task
    // is handed, in this process or turbo's, so the config read once for it stays the one they share.)
    if (lock) env[UNDER_PIPELINE_LOCK_ENV] = lock.holder
    try {
      code = !graph
        ? await runTurboProcesses({ args: { ...args, toolArgs }, rootTasks: await rootTasksOf(args, () => checkedGraph ?? resolveGraph()), env: turboEnv(), output, signal: io.signal })
        : await runGraphInProcess({ graph: await graph, entries: PIPELINE_TASK_ENTRIES, argv: toolArgs, env, cwd: io.cwd, signal: io.signal, output, root: ROOT, clients })
    } catch (error) {
      if (!(error instanceof TaskGraphError)) throw error
      // Nothing was started, so there is no total to give: the error is the run's last word, as a task's usage error is.
      createReporter({ json: args.json, out: io.stdout }).error(describeError(error))
      return EXIT.usage
    } finally {
      // A lock that cannot be released (the API went away) expires on its own.
      await lock?.release().catch(() => undefined)
    }
  } finally {
    await clients.close()
  }
  output.finish({ verb: args.verb, plan: args.verb === 'plan' || toolArgs.includes('--plan'), filtered: isFiltered(args.turboArgs) })
  return code
}

/**
 * The root stages turbo is to name on its command line, so they get the flags after `--`: all of the verb's, or for a
 * filtered run those the filtered packages depend on (one more turbo resolution, only with --separate-processes).
 */
async function rootTasksOf(args: Pipeline, resolveGraph: () => Promise<GraphTask[]>): Promise<string[]> {
  if (!isFiltered(args.turboArgs)) return [...ROOT_TASKS[args.verb]]
  return (await resolveGraph()).map((t) => t.taskId).filter((id) => id.startsWith('//#'))
}

/** Turbo runs every task as its own pnpm process; its output is relayed line by line, the failures it names noted. */
async function runTurboProcesses(options: { args: Pipeline; rootTasks: readonly string[]; env: NodeJS.ProcessEnv; output: PipelineOutput; signal: AbortSignal }): Promise<number> {
  const { args, output } = options
  const child = spawn(TURBO_BIN, turboRunArgv(args, options.rootTasks), { cwd: ROOT, env: options.env, stdio: ['inherit', 'pipe', 'pipe'] })
  const failed: number[] = []
  const noteFailure = (relay: (line: string) => void) => (line: string) => {
    const failure = turboTaskFailure(line)
    if (failure) failed.push(failure.code)
    relay(line)
  }
  createInterface({ input: child.stdout }).on('line', noteFailure(output.line))
  createInterface({ input: child.stderr }).on('line', noteFailure(output.aside))
  const exit = await new Promise<number>((resolve) => {
    child.once('error', () => resolve(127))
    child.once('close', (code) => resolve(code ?? 1))
  })
  return separateProcessesExitCode(exit, failed, options.signal.aborted)
}
