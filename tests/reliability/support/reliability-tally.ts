// The suite's own bookkeeping: each case says it was tried and, when every assertion held, that it survived. The
// cases run in several processes (one per test file), so the tally is a file the report reads at the end.
import { appendFileSync, existsSync, mkdirSync, readFileSync, rmSync } from 'node:fs'
import { tmpdir } from 'node:os'
import { join } from 'node:path'
import type { Test } from 'uvu'

export type CaseKind = 'fault' | 'input'
type TallyLine = { kind: CaseKind; name: string; event: 'tried' | 'survived' } | { kind: 'leak'; where: string; secret: string }

// Every file of one `run-tests.ts` run is a child of the same runner process: its pid names the run.
const runKey = () => process.env['HOMELAB_RELIABILITY_RUN'] ?? String(process.ppid)

export function tallyFile(): string {
  // Under run-tests.ts each file has a TMPDIR of its own: the tally lives in the run's folder, which they share.
  const dir = join(process.env['HOMELAB_TEST_RUN_DIR'] ?? tmpdir(), 'homelab-reliability')
  mkdirSync(dir, { recursive: true, mode: 0o700 })
  return join(dir, `run-${runKey()}.jsonl`)
}

const record = (line: TallyLine) => appendFileSync(tallyFile(), `${JSON.stringify(line)}\n`, { mode: 0o600 })

/** Registers a case on the suite; it counts as survived only when its body returned without a failed assertion. */
export function reliabilityCase<C>(test: Test<C>, kind: CaseKind, name: string, body: (ctx: C) => Promise<void> | void): void {
  test(name, async (ctx) => {
    record({ kind, name, event: 'tried' })
    await body(ctx)
    record({ kind, name, event: 'survived' })
  })
}

export const recordLeak = (where: string, secret: string) => record({ kind: 'leak', where, secret })

export type ReliabilityCounts = { faultsTried: number; faultsSurvived: number; inputsTried: number; inputsRejected: number; leaks: number }

export function readCounts(file = tallyFile()): ReliabilityCounts {
  const lines = existsSync(file) ? readFileSync(file, 'utf8').split('\n').filter(Boolean).map((l) => JSON.parse(l) as TallyLine) : []
  const count = (kind: CaseKind, event: 'tried' | 'survived') => new Set(lines.filter((l) => l.kind === kind && 'event' in l && l.event === event).map((l) => (l as { name: string }).name)).size
  return {
    faultsTried: count('fault', 'tried'),
    faultsSurvived: count('fault', 'survived'),
    inputsTried: count('input', 'tried'),
    inputsRejected: count('input', 'survived'),
    leaks: lines.filter((l) => l.kind === 'leak').length,
  }
}

export function reportLines(counts: ReliabilityCounts): string[] {
  return [
    `reliability: faults tried ${counts.faultsTried} / survived ${counts.faultsSurvived}; bad inputs tried ${counts.inputsTried} / rejected cleanly ${counts.inputsRejected}; secret leaks found ${counts.leaks}`,
  ]
}

export const clearTally = (file = tallyFile()) => rmSync(file, { force: true })
