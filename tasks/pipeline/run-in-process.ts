import { spawn } from 'node:child_process'
import { join } from 'node:path'
import { createInterface } from 'node:readline'
import { EXIT, type ToolClients } from '@homelab/core'
import { pipelineExitCode } from './pipeline-exit-code.js'
import type { PipelineOutput } from './pipeline-output.js'
import { prefixedLines, taskPrefix } from './pipeline-output.js'
import type { TaskEntry } from './pipeline-tasks.js'
import type { GraphTask } from './task-graph.js'

export type InProcessOptions = {
  graph: readonly GraphTask[]
  entries: Readonly<Record<string, TaskEntry>>
  /** What each task is handed: the tool's flags, the pipeline's environment, the run's abort signal. */
  argv: readonly string[]
  env: Record<string, string | undefined>
  cwd: string
  signal: AbortSignal
  output: PipelineOutput
  /** Where a task without an entry is run as `pnpm run <task>` (its package folder is relative to it). */
  root: string
  /** The connections every task shares; the caller closes them. */
  clients: ToolClients
}

/**
 * Runs turbo's task graph in this process: each task starts once everything it depends on succeeded, independent
 * ones side by side, and a task whose dependency failed is not started (turbo's --continue=dependencies-successful).
 * One process instead of one per task is what makes a no-op run cost about as much as the checks it makes: turbo
 * spawning a pnpm and a Node per task costs two seconds before any task does anything.
 *
 * Exit code: 130 when interrupted, 0 when every task passed, else the failed tasks' code when they agree, else 1.
 */
export async function runGraphInProcess(options: InProcessOptions): Promise<number> {
  const byId = new Map(options.graph.map((t) => [t.taskId, t]))
  const runs = new Map<string, Promise<number | undefined>>()
  const run = (task: GraphTask): Promise<number | undefined> => {
    let started = runs.get(task.taskId)
    if (!started) {
      started = (async () => {
        const deps = await Promise.all(task.dependencies.flatMap((id) => (byId.has(id) ? [run(byId.get(id)!)] : [])))
        if (deps.some((code) => code !== 0) || options.signal.aborted) return undefined
        return runTask(task, options)
      })()
      runs.set(task.taskId, started)
    }
    return started
  }
  const codes = await Promise.all(options.graph.map(run))
  return pipelineExitCode(codes.filter((c): c is number => c !== undefined), options.signal.aborted)
}

async function runTask(task: GraphTask, options: InProcessOptions): Promise<number> {
  const prefix = taskPrefix(task.taskId)
  const stdout = prefixedLines(prefix, options.output.line)
  const stderr = prefixedLines(prefix, options.output.aside)
  const entry = options.entries[task.taskId]
  try {
    const pipelineSoFar = () => options.output.soFar(options.argv.includes('--plan'))
    if (entry) return await entry({ argv: options.argv, env: options.env, cwd: options.cwd, stdout, stderr, signal: options.signal, clients: options.clients, pipelineSoFar })
    return await runAsProcess(task, options, stdout, stderr)
  } catch (error) {
    // Entries report their own failures; this is a bug in one, and it must not take the other tasks down with it.
    stderr.write(`${error instanceof Error ? (error.stack ?? error.message) : String(error)}\n`)
    return EXIT.failed
  } finally {
    stdout.end()
    stderr.end()
  }
}

/** A task with no entry in this process: its package script, the way turbo would run it. */
function runAsProcess(task: GraphTask, options: InProcessOptions, stdout: { write(s: string): unknown }, stderr: { write(s: string): unknown }): Promise<number> {
  const child = spawn('pnpm', ['run', '--silent', task.task, ...options.argv], { cwd: join(options.root, task.directory), env: options.env, stdio: ['ignore', 'pipe', 'pipe'] })
  createInterface({ input: child.stdout }).on('line', (line) => stdout.write(`${line}\n`))
  createInterface({ input: child.stderr }).on('line', (line) => stderr.write(`${line}\n`))
  const stop = () => child.kill('SIGINT')
  options.signal.addEventListener('abort', stop, { once: true })
  return new Promise((resolve) => {
    child.once('error', () => resolve(127))
    child.once('close', (code) => {
      options.signal.removeEventListener('abort', stop)
      resolve(code ?? EXIT.failed)
    })
  })
}
