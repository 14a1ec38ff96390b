import { defaultChangeView, renderDiff } from './change-view.js'
import { describeError, HomelabError } from './errors/homelab-error.js'
import type { Recap, Reporter, StepResult } from './reporter.js'
import { StepSkipped, type Step, type StepContext } from './step.js'

export type RunOptions = {
  title: string
  reporter: Reporter
  plan: boolean
  /** Run verify() after each step that has one (bootstrap does; plan never does). */
  verify?: boolean
  /** How many independent steps may run at once; dependants always wait for their needs. */
  concurrency?: number
  signal?: AbortSignal
}

export type RunResult = Recap & { results: StepResult[] }

/**
 * Runs steps in order, as many at once as `concurrency` allows, each as soon as its needs have succeeded. A failed
 * step fails alone: its dependants are skipped and everything independent goes on.
 */
export async function runSteps(steps: readonly Step<any, any, any>[], options: RunOptions): Promise<RunResult> {
  const names = new Set(steps.map((s) => s.name))
  if (names.size !== steps.length) throw new Error(`duplicate step names in "${options.title}"`)
  for (const s of steps) {
    for (const n of s.needs ?? []) if (!names.has(n)) throw new Error(`step "${s.name}" needs unknown step "${n}"`)
    for (const n of s.after ?? []) if (!names.has(n)) throw new Error(`step "${s.name}" comes after unknown step "${n}"`)
  }
  const { reporter } = options
  reporter.start(options.title, options.plan)
  const done = new Map<string, StepResult>()
  const results: StepResult[] = []
  const pending = [...steps]
  const running = new Map<string, Promise<void>>()
  const limit = Math.max(1, options.concurrency ?? 1)

  const finish = (result: StepResult) => {
    done.set(result.step, result)
    results.push(result)
    reporter.result(result)
  }

  while (pending.length > 0 || running.size > 0) {
    for (let i = 0; i < pending.length && running.size < limit; ) {
      const step = pending[i]!
      const needs = step.needs ?? []
      const blocked = needs.find((n) => done.has(n) && done.get(n)!.status !== 'ok' && done.get(n)!.status !== 'changed')
      if (options.signal?.aborted) {
        pending.splice(i, 1)
        finish({ step: step.name, status: 'skipped', changes: [], reason: 'interrupted', durationMs: 0 })
      } else if (blocked) {
        pending.splice(i, 1)
        finish({ step: step.name, status: 'skipped', changes: [], reason: `needs "${blocked}", which ${done.get(blocked)!.status}`, durationMs: 0 })
      } else if (needs.every((n) => done.has(n)) && (step.after ?? []).every((n) => done.has(n))) {
        pending.splice(i, 1)
        running.set(
          step.name,
          runOne(step, options).then((r) => {
            running.delete(step.name)
            finish(r)
          }),
        )
      } else i++
    }
    if (running.size > 0) await Promise.race(running.values())
    else if (pending.length > 0 && !options.signal?.aborted) {
      // Only possible with a cycle in needs: report it rather than spin.
      for (const s of pending.splice(0)) finish({ step: s.name, status: 'skipped', changes: [], reason: 'circular needs', durationMs: 0 })
    }
  }
  const count = (status: StepResult['status']) => results.filter((r) => r.status === status).length
  const recap: Recap = { title: options.title, plan: options.plan, ok: count('ok'), changed: count('changed'), failed: count('failed'), skipped: count('skipped') }
  reporter.recap(recap)
  return { ...recap, results }
}

async function runOne(step: Step<any, any, any>, options: RunOptions): Promise<StepResult> {
  const started = performance.now()
  const elapsed = () => Math.round(performance.now() - started)
  const ctx: StepContext = {
    plan: options.plan,
    progress: (message) => options.reporter.progress(step.name, message),
    warn: (message) => options.reporter.warn(step.name, message),
    signal: options.signal ?? new AbortController().signal,
  }
  let changes: unknown[] = []
  try {
    const current = await step.check(ctx)
    const desired = await step.desired(ctx)
    changes = step.diff(current, desired)
    const views = changes.map((c) => {
      const view = step.describe ? step.describe(c) : defaultChangeView(c)
      const diff = renderDiff(view)
      return diff ? { summary: view.summary, diff } : { summary: view.summary }
    })
    if (!options.plan && changes.length > 0) {
      if (!step.apply) throw new Error(`step "${step.name}" found changes but has no apply()`)
      await step.apply(changes, ctx)
    }
    if (!options.plan && options.verify && step.verify) await step.verify(ctx)
    return { step: step.name, status: changes.length > 0 ? 'changed' : 'ok', changes: views, durationMs: elapsed() }
  } catch (error) {
    if (error instanceof StepSkipped) return { step: step.name, status: 'skipped', changes: [], reason: error.reason, durationMs: elapsed() }
    if (error instanceof HomelabError && !error.step) error.step = step.name
    return { step: step.name, status: 'failed', changes: [], error: describeError(error), durationMs: elapsed() }
  }
}
