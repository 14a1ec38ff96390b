import { spawn } from 'node:child_process'
import { existsSync } from 'node:fs'
import { join } from 'node:path'
import { createInterface } from 'node:readline'
import { createReporter, type Recap, type TaskIo } from '@homelab/core'
import { pipelineEnvironment, turboRunArgv, type PipelineArgs } from './pipeline-args.js'
import { parseRecap, splitTaskLine, totalOf } from './pipeline-recaps.js'

const ROOT = join(import.meta.dirname, '..', '..')
export const TURBO_BIN = join(ROOT, 'node_modules', '.bin', 'turbo')

/** The tasks a whole pipeline runs, so the total can name the ones a failed dependency stopped. */
export const PIPELINE_TASKS: Readonly<Record<string, readonly string[]>> = {
  bootstrap: ['//#preflight', '@homelab/registry#bootstrap', '@homelab/dns#bootstrap', '@homelab/localstack#bootstrap', '@homelab/node-trust#bootstrap', '//#verify-all'],
  plan: ['@homelab/registry#plan', '@homelab/dns#plan', '@homelab/localstack#plan', '@homelab/node-trust#plan'],
  verify: ['@homelab/registry#verify', '@homelab/dns#verify', '@homelab/localstack#verify', '@homelab/node-trust#verify'],
}

/** Runs turbo with its output relayed line by line (prefixes kept; under --json each event gains `task`), then a total. */
export async function runTurboPipeline(args: Extract<PipelineArgs, { kind: 'pipeline' }>, io: TaskIo): Promise<number> {
  const { env, toolArgs } = pipelineEnvironment(args, io.cwd, io.env, existsSync)
  const child = spawn(TURBO_BIN, turboRunArgv({ ...args, toolArgs }), {
    cwd: ROOT,
    env: { ...env, TURBO_NO_UPDATE_NOTIFIER: '1', TURBO_TELEMETRY_DISABLED: '1' },
    stdio: ['inherit', 'pipe', 'pipe'],
  })
  const recaps: Recap[] = []
  const reported = new Set<string>()
  const relay = (line: string) => {
    const { task, text } = splitTaskLine(line)
    const recap = task ? parseRecap(text, args.json) : undefined
    if (recap && task) {
      recaps.push(recap)
      reported.add(task)
    }
    // Under --json stdout carries events only: turbo's own lines and pnpm's banners go to stderr.
    if (!args.json) io.stdout.write(`${line}\n`)
    else if (task && text.startsWith('{')) io.stdout.write(`${JSON.stringify({ ...(JSON.parse(text) as object), task })}\n`)
    else io.stderr.write(`${line}\n`)
  }
  createInterface({ input: child.stdout }).on('line', relay)
  child.stderr.pipe(io.stderr as NodeJS.WritableStream, { end: false })
  const code = await new Promise<number>((resolve) => {
    child.once('error', () => resolve(127))
    child.once('close', (exit) => resolve(exit ?? 1))
  })
  const reporter = createReporter({ json: args.json, out: io.stdout })
  const filtered = args.turboArgs.some((a) => a.startsWith('--filter') || a.startsWith('-F') || a === '--only')
  if (!filtered) {
    for (const task of PIPELINE_TASKS[args.verb] ?? []) {
      if (!reported.has(task)) reporter.warn(task, 'did not finish a run: it failed before its recap, or a task it depends on failed (see above)')
    }
  }
  reporter.recap(totalOf(recaps, args.verb === 'plan' || args.toolArgs.includes('--plan')))
  return code
}
