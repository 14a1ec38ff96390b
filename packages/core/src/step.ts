/** What a step reports about one change: a one-line summary and, when useful, before/after text to diff. */
export type ChangeView = { summary: string; before?: string; after?: string }

export type StepContext = {
  /** True under --plan: apply() is never called, but check() may still use server-side dry-runs. */
  readonly plan: boolean
  /** A note for long waits: a spinner line on a TTY, a plain line in CI and in --json. */
  progress(message: string): void
  /** A warning that belongs in the output but does not fail the step. */
  warn(message: string): void
  readonly signal: AbortSignal
}

/**
 * One idempotent change. check() reads, desired() and diff() are pure, apply() makes exactly the changes diff()
 * returned and never runs under --plan, verify() is read-only and runs after a real apply (or when nothing changed).
 */
export type Step<S = unknown, C = unknown, D = S> = {
  name: string
  /** Names of steps that must succeed first; if one fails or is skipped, this one is skipped. */
  needs?: readonly string[]
  /** Names of steps that must have ended first, however they ended: order only (this step's check judges the rest). */
  after?: readonly string[]
  check(ctx: StepContext): Promise<S>
  desired(ctx: StepContext): D | Promise<D>
  diff(current: S, desired: D): C[]
  apply?(changes: C[], ctx: StepContext): Promise<void>
  verify?(ctx: StepContext): Promise<void>
  describe?(change: C): ChangeView
  /**
   * The error apply() ends with for these changes, though it makes the rest (a DNS name someone else's record holds):
   * what a report of drift (status) shows as a failure, since the next bootstrap would not repair it.
   */
  refusal?(changes: C[]): Error | undefined
}

/** Thrown from check() or desired() when the step does not apply here (a CRD is absent, a feature is off). */
export class StepSkipped extends Error {
  constructor(readonly reason: string) {
    super(reason)
    this.name = 'StepSkipped'
  }
}

/** A step that is only a check: nothing to change, verify() is the work (preflight and verify tasks). */
export function checkStep(name: string, run: (ctx: StepContext) => Promise<void>, needs?: readonly string[]): Step<null, never> {
  return {
    name,
    ...(needs ? { needs } : {}),
    check: async (ctx) => {
      await run(ctx)
      return null
    },
    desired: () => null,
    diff: () => [],
  }
}

/**
 * What a quick verify (`--quick`, or the pipeline's after a run that changed nothing) shows for the checks it leaves
 * out: one skipped line per component saying how many and where they run, rather than a line each.
 */
export function leftToFullVerify(component: string, steps: readonly Step<any, any, any>[]): Step<null, never>[] {
  if (steps.length === 0) return []
  const reason = 'a quick verify pushes, pulls and starts nothing; `pnpm verify-all` runs them'
  return [checkStep(`${component}: ${steps.length} end-to-end check${steps.length === 1 ? '' : 's'}`, () => Promise.reject(new StepSkipped(reason)))]
}
