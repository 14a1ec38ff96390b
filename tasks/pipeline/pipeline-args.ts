import { resolve } from 'node:path'
import { COMMON_FLAGS, UsageError } from '@homelab/core'

export type PipelineVerb = 'bootstrap' | 'plan' | 'verify'

export const PIPELINE_VERBS: readonly PipelineVerb[] = ['bootstrap', 'plan', 'verify']

/** What `pnpm turbo …` was asked: a pipeline with turbo's and the tool's flags apart, or any other turbo command. */
export type PipelineArgs =
  | { kind: 'pipeline'; verb: PipelineVerb; turboArgs: string[]; toolArgs: string[]; json: boolean; separateProcesses: boolean }
  | { kind: 'passthrough'; args: string[] }

/** The pipeline's own flag: have turbo run each task as its own process instead of running the graph here. */
export const SEPARATE_PROCESSES = '--separate-processes'

const TOOL_FLAGS = new Map(Object.entries(COMMON_FLAGS).map(([name, spec]) => [`--${name}`, spec.type]))

/**
 * Pure. `bootstrap --json --plan --filter=@homelab/dns -- --yes` → turbo gets `--filter=@homelab/dns`, every task
 * gets `--json --plan --yes`. The tool's flags (core's COMMON_FLAGS) are recognised wherever they stand, so nobody
 * has to remember turbo's `--` rule; `--separate-processes` is the pipeline's own; anything else is turbo's.
 */
export function parsePipelineArgs(argv: readonly string[]): PipelineArgs {
  const first = argv[0] === 'run' ? 1 : 0
  const verb = argv[first]
  if (!PIPELINE_VERBS.includes(verb as PipelineVerb)) return { kind: 'passthrough', args: [...argv] }
  const rest = argv.slice(first + 1)
  const dashes = rest.indexOf('--')
  const own = dashes === -1 ? rest : rest.slice(0, dashes)
  const toolArgs = dashes === -1 ? [] : rest.slice(dashes + 1)
  const turboArgs: string[] = []
  for (let i = 0; i < own.length; i++) {
    const arg = own[i]!
    const name = arg.split('=')[0]!
    const type = TOOL_FLAGS.get(name)
    if (arg === SEPARATE_PROCESSES) continue
    if (type === undefined) turboArgs.push(arg)
    else if (type === 'boolean' || arg.includes('=')) toolArgs.push(arg)
    else {
      const value = own[++i]
      if (value === undefined) throw new UsageError(`${name} needs a value`)
      toolArgs.push(arg, value)
    }
  }
  return { kind: 'pipeline', verb: verb as PipelineVerb, turboArgs, toolArgs, json: toolArgs.includes('--json'), separateProcesses: own.includes(SEPARATE_PROCESSES) }
}

/**
 * The root stages around a pipeline: bootstrap opens with preflight and ends with verifying everything it converged.
 * They are named on the command line, not only reached through dependsOn, because turbo hands the arguments after
 * `--` to the tasks named on the command line only.
 */
export const ROOT_TASKS: Readonly<Record<PipelineVerb, readonly string[]>> = { bootstrap: ['//#preflight-cluster', '//#preflight-nodes', '//#verify-all'], plan: [], verify: [] }

/** Pure. Whether turbo is told to run only some packages (then the root stages come only as their dependencies). */
export const isFiltered = (turboArgs: readonly string[]) => turboArgs.some((a) => a.startsWith('--filter') || a.startsWith('-F') || a === '--only' || a === '--affected')

/**
 * Pure. The environment every task gets. Turbo runs each task in its package's folder, where a relative --config or
 * the user's `./homelab.yaml` would not be found (and the example's addresses would be used instead), so the config
 * travels as an absolute HOMELAB_CONFIG and --config/--kubeconfig values are made absolute.
 */
export function pipelineEnvironment(args: Extract<PipelineArgs, { kind: 'pipeline' }>, cwd: string, env: Readonly<Record<string, string | undefined>>, exists: (path: string) => boolean): { env: Record<string, string | undefined>; toolArgs: string[] } {
  const toolArgs = args.toolArgs.map((arg, i) => {
    const previous = args.toolArgs[i - 1]
    if (previous === '--config' || previous === '--kubeconfig') return resolve(cwd, arg)
    const inline = /^(--config|--kubeconfig)=(.*)$/.exec(arg)
    return inline ? `${inline[1]}=${resolve(cwd, inline[2]!)}` : arg
  })
  const flagged = toolArgs.findIndex((a) => a === '--config' || a.startsWith('--config='))
  const fromFlag = flagged === -1 ? undefined : toolArgs[flagged]!.includes('=') ? toolArgs[flagged]!.slice('--config='.length) : toolArgs[flagged + 1]
  const local = resolve(cwd, 'homelab.yaml')
  const config = fromFlag ?? (env['HOMELAB_CONFIG'] ? resolve(cwd, env['HOMELAB_CONFIG']) : exists(local) ? local : undefined)
  return { env: { ...env, ...(config ? { HOMELAB_CONFIG: config } : {}) }, toolArgs }
}

/**
 * Pure. The `turbo run` argv for a pipeline. `rootTasks`: the root stages to name, by default all of the verb's; a
 * filtered run names only those its packages depend on (naming //#verify-all would bring back every package).
 */
export function turboRunArgv(args: Extract<PipelineArgs, { kind: 'pipeline' }>, rootTasks: readonly string[] = isFiltered(args.turboArgs) ? [] : ROOT_TASKS[args.verb]): string[] {
  return [
    'run', args.verb, ...rootTasks,
    // Stop only what depends on a failed package; let every independent one finish (turbo's default stops them all).
    '--continue=dependencies-successful',
    '--ui=stream', '--log-order=stream', '--log-prefix=task', '--output-logs=full',
    ...(args.json ? ['--no-color'] : []),
    ...args.turboArgs,
    ...(args.toolArgs.length > 0 ? ['--', ...args.toolArgs] : []),
  ]
}
