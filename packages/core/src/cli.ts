import { parseArgs, type ParseArgsConfig } from 'node:util'
import { ConfigError } from './errors/config-error.js'
import { describeError } from './errors/homelab-error.js'
import { createReporter, type Output, type Recap, type Reporter } from './reporter.js'
import type { RunResult } from './runner.js'
import type { ToolClients } from './tool-clients.js'

/** Flags every task understands; a task adds its own. */
export const COMMON_FLAGS = {
  plan: { type: 'boolean', default: false },
  json: { type: 'boolean', default: false },
  config: { type: 'string' },
  kubeconfig: { type: 'string' },
  'force-conflicts': { type: 'boolean', default: false },
  'accept-new-host-keys': { type: 'boolean', default: false },
  yes: { type: 'boolean', default: false },
  quick: { type: 'boolean', default: false },
  help: { type: 'boolean', default: false },
} as const satisfies ParseArgsConfig['options']

export type TaskIo = {
  argv: readonly string[]
  env: Readonly<Record<string, string | undefined>>
  cwd: string
  stdout: Output
  stderr: Output
  /** Aborted on SIGINT/SIGTERM/SIGHUP: steps in flight finish their current request, the rest are skipped. */
  signal: AbortSignal
  /** Connections shared with the other tasks of this process (the pipeline's); a task opens its own without them. */
  clients?: ToolClients | undefined
  /** In a pipeline run in one process: everything its tasks reported before this one started, added up. */
  pipelineSoFar?: (() => Recap) | undefined
}

export type TaskContext<F> = { flags: F; positionals: string[]; reporter: Reporter; io: TaskIo }

/** What a task returns: a step run (exit 0 or 1), or an exit code of its own (status uses 3 for drift). */
export type TaskOutcome = RunResult | RunResult[] | number

export class UsageError extends Error {}

export const EXIT = { ok: 0, failed: 1, usage: 2, drift: 3, interrupted: 130 } as const

/**
 * The one place where a task's outcome becomes an exit code: 0 done, 1 a step failed, 2 bad config or usage.
 * Everything else a task prints goes through the reporter, so secrets are scrubbed on the way out.
 */
export async function runTask<O extends NonNullable<ParseArgsConfig['options']>>(
  spec: { name: string; usage: string; options: O; /** Takes arguments besides flags (`users add NAME`). */ positionals?: boolean },
  main: (ctx: TaskContext<ParsedFlags<O>>) => Promise<TaskOutcome>,
  io: TaskIo,
): Promise<number> {
  const wantsJson = io.argv.includes('--json')
  const reporter = createReporter({ json: wantsJson, out: io.stdout })
  let parsed: ReturnType<typeof parseFlags<O>>
  try {
    parsed = parseFlags(spec.options, io.argv)
    // A task that takes none would otherwise ignore them: `--config` after a stray word is read as a word.
    if (!spec.positionals && parsed.positionals.length > 0) throw new UsageError(`unexpected argument ${JSON.stringify(parsed.positionals[0])}`)
  } catch (error) {
    reporter.error(`${describeError(error)}\nusage: ${spec.usage}`)
    return EXIT.usage
  }
  if ((parsed.flags as { help?: boolean }).help) {
    io.stdout.write(`usage: ${spec.usage}\n`)
    return EXIT.ok
  }
  try {
    const outcome = await main({ flags: parsed.flags, positionals: parsed.positionals, reporter, io })
    // An interrupted run is not a finished one, whatever its steps said: CI and turbo must not take it for done.
    if (io.signal.aborted) {
      reporter.error('interrupted: the steps not yet started were skipped; run it again to finish')
      return EXIT.interrupted
    }
    if (typeof outcome === 'number') return outcome
    const runs = Array.isArray(outcome) ? outcome : [outcome]
    return runs.some((r) => r.failed > 0) ? EXIT.failed : EXIT.ok
  } catch (error) {
    reporter.error(describeError(error))
    return error instanceof ConfigError || error instanceof UsageError ? EXIT.usage : EXIT.failed
  }
}

/** The flag values parseArgs gives for these options: `--adopt` declared boolean is typed boolean. */
export type ParsedFlags<O extends NonNullable<ParseArgsConfig['options']>> = ReturnType<typeof parseArgs<{ options: O; allowPositionals: true; strict: true }>>['values']

function parseFlags<O extends NonNullable<ParseArgsConfig['options']>>(options: O, argv: readonly string[]): { flags: ParsedFlags<O>; positionals: string[] } {
  // `pnpm --filter x run task -- --flag` (npm's habit) reaches the task with the `--` kept: it separates nothing here,
  // and left in place it would turn every flag after it into a word.
  const args = argv[0] === '--' ? argv.slice(1) : [...argv]
  const { values, positionals } = parseArgs({ args, options, allowPositionals: true, strict: true })
  return { flags: values, positionals }
}

/**
 * The process as a TaskIo. This is the one place in src/ that touches `process`, so that tasks/ stay three lines and
 * tests can hand runTask an io of their own.
 */
export function processIo(): TaskIo {
  const controller = new AbortController()
  const stop = () => {
    // A second Ctrl-C means "now": leave at once rather than wait for the step in flight.
    if (controller.signal.aborted) process.exit(130)
    controller.abort()
  }
  // SIGHUP is a dropped SSH session: unhandled, Node exits at once and no `finally` runs (a GC Job left running, a
  // lock kept), so it stops the run like SIGTERM. The terminal is gone with it: a write to it fails (EIO, EPIPE), and
  // that error, unhandled, would end the process in the middle of the cleanup; the output has nowhere to go anyway.
  // A repeated hang-up is the same event passed on twice (the kernel to the process group, and a parent like pnpm),
  // not someone asking to leave now, so it never skips the cleanup.
  const hangUp = () => {
    for (const stream of [process.stdout, process.stderr]) stream.on('error', () => undefined)
    if (!controller.signal.aborted) controller.abort()
  }
  process.on('SIGINT', stop).on('SIGTERM', stop).on('SIGHUP', hangUp)
  // `pnpm --filter dns run sync` runs the script in packages/dns; INIT_CWD is where the user typed it, which is where
  // their homelab.yaml and any relative --config are (otherwise the example's addresses would be used).
  const cwd = process.env.INIT_CWD || process.cwd()
  return { argv: process.argv.slice(2), env: process.env, cwd, stdout: process.stdout, stderr: process.stderr, signal: controller.signal }
}
