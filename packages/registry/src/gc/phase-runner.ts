import { describeError, HomelabError, StepSkipped, type Reporter, type RunResult, type StepResult, type StepStatus } from '@homelab/core'

/** What a phase did: `changed` when it changed the cluster; `lines` are shown under its step line. */
export type PhaseOutcome = { status: 'ok' | 'changed'; lines?: readonly string[] }

export type PhaseRunner = {
  /** Runs one phase and reports it as a step line; a throw is the phase's `failed` (StepSkipped: `skipped`). */
  phase(name: string, work: () => Promise<PhaseOutcome>): Promise<StepStatus>
  skip(name: string, reason: string): void
  finish(): RunResult
}

/**
 * The runbook's own runner. A runbook is not a list of independent steps: its order is fixed, and the restore at the
 * end must run after a failure or an interrupt (which runSteps would mark skipped). It still reports through the
 * same Reporter, so its output reads like every other task's.
 */
export function phaseRunner(reporter: Reporter, title: string, plan: boolean): PhaseRunner {
  const results: StepResult[] = []
  const record = (result: StepResult) => {
    results.push(result)
    reporter.result(result)
    return result.status
  }
  reporter.start(title, plan)
  return {
    async phase(name, work) {
      const started = performance.now()
      const durationMs = () => Math.round(performance.now() - started)
      try {
        const outcome = await work()
        return record({ step: name, status: outcome.status, changes: (outcome.lines ?? []).map((summary) => ({ summary })), durationMs: durationMs() })
      } catch (error) {
        if (error instanceof StepSkipped) return record({ step: name, status: 'skipped', changes: [], reason: error.reason, durationMs: durationMs() })
        if (error instanceof HomelabError && !error.step) error.step = name
        return record({ step: name, status: 'failed', changes: [], error: describeError(error), durationMs: durationMs() })
      }
    },
    skip: (name, reason) => void record({ step: name, status: 'skipped', changes: [], reason, durationMs: 0 }),
    finish() {
      const count = (status: StepStatus) => results.filter((r) => r.status === status).length
      const recap = { title, plan, ok: count('ok'), changed: count('changed'), failed: count('failed'), skipped: count('skipped') }
      reporter.recap(recap)
      return { ...recap, results }
    },
  }
}
