import { spawn } from 'node:child_process'
import { TaskGraphError } from './task-graph-error.js'

/** One task of a turbo run, as `turbo run --dry=json` resolves it from turbo.json and the filters. */
export type GraphTask = { taskId: string; task: string; directory: string; dependencies: string[] }

/** Pure. The runnable tasks of turbo's dry-run JSON (packages without the script are left out). */
export function parseDryRun(json: string): GraphTask[] {
  const dry = JSON.parse(json) as { tasks?: { taskId: string; task: string; directory: string; command: string; dependencies: string[] }[] }
  if (!Array.isArray(dry.tasks)) throw new TaskGraphError('turbo --dry=json printed no task list')
  return dry.tasks
    .filter((t) => t.command !== '<NONEXISTENT>')
    .map((t) => ({ taskId: t.taskId, task: t.task, directory: t.directory, dependencies: [...t.dependencies] }))
}

/**
 * The task graph turbo would run for `turbo run <argv>`: turbo.json stays the one place the order is written down,
 * and turbo's own --filter and friends keep their meaning. Costs one turbo process that runs nothing.
 */
export function turboTaskGraph(turboBin: string, argv: readonly string[], options: { cwd: string; env: NodeJS.ProcessEnv }): Promise<GraphTask[]> {
  return new Promise((resolve, reject) => {
    const child = spawn(turboBin, [...argv, '--dry=json'], { cwd: options.cwd, env: options.env, stdio: ['ignore', 'pipe', 'pipe'] })
    let out = ''
    let err = ''
    child.stdout.on('data', (d: Buffer) => (out += d.toString()))
    child.stderr.on('data', (d: Buffer) => (err += d.toString()))
    child.once('error', (error) => reject(new TaskGraphError(`turbo could not be started (${turboBin})`, { cause: error, hint: 'run `pnpm install` in the repository' })))
    child.once('close', (code) => {
      if (code !== 0) return reject(new TaskGraphError(`turbo could not resolve the pipeline (exit ${code}): ${err.trim() || out.trim()}`))
      try {
        resolve(parseDryRun(out))
      } catch (error) {
        reject(error instanceof TaskGraphError ? error : new TaskGraphError('turbo --dry=json printed no JSON', { cause: error }))
      }
    })
  })
}
