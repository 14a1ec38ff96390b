import { spawn } from 'node:child_process'
import { join } from 'node:path'
import { createInterface } from 'node:readline'

export const REPO_ROOT = join(import.meta.dirname, '..', '..')

/** `output`: stdout and stderr interleaved as they came; `stdout`: stdout alone (under --json, the events). */
export type ToolProcess = { code: number; output: string; stdout: string; ms: number }

/**
 * Runs a task script of this repo as its own process, the way `pnpm <script>` would (scripts/run-task.mjs: the cached
 * bundle, so tests run what users run; repo root as cwd),
 * handing every output line to `onLine` as it comes: the lab's Pi-hole doubles live in the calling process, so it must
 * stay free to answer them while the task runs.
 */
export function runToolProcess(script: string, args: readonly string[], options: { env?: NodeJS.ProcessEnv; onLine?: (line: string) => void } = {}): Promise<ToolProcess> {
  const started = performance.now()
  const child = spawn(process.execPath, [join(REPO_ROOT, 'scripts', 'run-task.mjs'), join(REPO_ROOT, script), ...args], {
    cwd: REPO_ROOT,
    env: { ...(options.env ?? process.env), AWS_SDK_JS_NODE_VERSION_SUPPORT_WARNING_DISABLED: 'true' },
    stdio: ['ignore', 'pipe', 'pipe'],
  })
  let output = ''
  let stdout = ''
  const collect = (line: string) => {
    output += `${line}\n`
    options.onLine?.(line)
  }
  createInterface({ input: child.stdout }).on('line', (line) => {
    stdout += `${line}\n`
    collect(line)
  })
  createInterface({ input: child.stderr }).on('line', collect)
  return new Promise((resolve, reject) => {
    child.once('error', reject)
    child.once('close', (code) => resolve({ code: code ?? 1, output, stdout, ms: Math.round(performance.now() - started) }))
  })
}

/** The total line `pnpm turbo …` ends with, as numbers; undefined when the run ended before printing it. */
export function pipelineTotal(output: string): { ok: number; changed: number; failed: number; skipped: number } | undefined {
  const m = /recap total(?: \(plan\))?: ok=(\d+) changed=(\d+) failed=(\d+) skipped=(\d+)/.exec(output)
  return m ? { ok: +m[1]!, changed: +m[2]!, failed: +m[3]!, skipped: +m[4]! } : undefined
}
