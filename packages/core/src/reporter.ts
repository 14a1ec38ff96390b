import { redact } from './secret.js'

export type StepStatus = 'ok' | 'changed' | 'failed' | 'skipped'

export type StepResult = {
  step: string
  status: StepStatus
  /** One entry per change: under --plan the changes that would be made. */
  changes: { summary: string; diff?: string }[]
  /** For failed: what went wrong and what to do. */
  error?: string
  /** For skipped: why. */
  reason?: string
  durationMs: number
}

export type Recap = { title: string; plan: boolean; ok: number; changed: number; failed: number; skipped: number }

/** The only thing that prints. Every string it writes is scrubbed of known secret values first. */
export type Reporter = {
  start(title: string, plan: boolean): void
  progress(step: string, message: string): void
  warn(step: string | undefined, message: string): void
  result(result: StepResult): void
  recap(recap: Recap): void
  /** A failure outside any step (bad config, bad usage): printed once, before the exit. */
  error(message: string): void
}

export type Output = { write(text: string): unknown; isTTY?: boolean }

export function createReporter(options: { json: boolean; out: Output }): Reporter {
  return options.json ? jsonReporter(options.out) : humanReporter(options.out)
}

/** Every string inside `value` scrubbed, so each is matched in its raw form, before any escaping or indenting. */
function redactStrings<T>(value: T): T {
  if (typeof value === 'string') return redact(value) as T
  if (Array.isArray(value)) return value.map(redactStrings) as T
  if (value !== null && typeof value === 'object') {
    return Object.fromEntries(Object.entries(value).map(([k, v]) => [k, redactStrings(v)])) as T
  }
  return value
}

/** One JSON object per line; field names are documented in docs/json-events.md and kept stable. */
export function jsonReporter(out: Output): Reporter {
  // JSON escapes `"`, `\` and control characters, so a secret holding one no longer matches once stringified.
  const emit = (event: Record<string, unknown>) => out.write(JSON.stringify(redactStrings(event)) + '\n')
  return {
    start: (title, plan) => emit({ event: 'start', title, plan, time: new Date().toISOString() }),
    progress: (step, message) => emit({ event: 'progress', step, message }),
    warn: (step, message) => emit({ event: 'warning', step: step ?? null, message }),
    result: (r) => emit({ event: 'step', ...r }),
    recap: (r) => emit({ event: 'recap', ...r }),
    error: (message) => emit({ event: 'error', message }),
  }
}

const WIDTH = 8
const indent = (text: string, by: string) =>
  text
    .split('\n')
    .map((l) => by + l)
    .join('\n')

/** Ansible-like lines: status, step name, then the diff of each change indented below. */
export function humanReporter(out: Output): Reporter {
  const tty = out.isTTY === true
  let spinnerShown = false
  const write = (text: string) => {
    if (spinnerShown) {
      out.write('\r\x1b[2K')
      spinnerShown = false
    }
    out.write(redact(text))
  }
  return {
    start: (title, plan) => write(`== ${title}${plan ? ' (plan: nothing will be changed)' : ''}\n`),
    progress: (step, message) => {
      if (tty) {
        out.write('\r\x1b[2K' + redact(`${'…'.padEnd(WIDTH)} ${step}: ${message}`))
        spinnerShown = true
      } else write(`${'…'.padEnd(WIDTH)} ${step}: ${message}\n`)
    },
    warn: (step, message) => write(`${'warning'.padEnd(WIDTH)} ${step ? `${step}: ` : ''}${message}\n`),
    result: (result) => {
      // Indenting puts spaces inside a multi-line secret; scrub before.
      const r = redactStrings(result)
      let line = `${r.status.padEnd(WIDTH)} ${r.step}`
      if (r.status === 'failed' && r.error) line += `\n${indent(r.error, ' '.repeat(WIDTH + 1))}`
      if (r.status === 'skipped' && r.reason) line += `: ${r.reason}`
      for (const c of r.changes) {
        line += `\n${' '.repeat(WIDTH + 1)}~ ${c.summary}`
        if (c.diff) line += `\n${indent(c.diff, ' '.repeat(WIDTH + 3))}`
      }
      write(line + '\n')
    },
    recap: (r) =>
      write(`recap ${r.title}${r.plan ? ' (plan)' : ''}: ok=${r.ok} changed=${r.changed} failed=${r.failed} skipped=${r.skipped}\n`),
    error: (message) => write(`${'error'.padEnd(WIDTH)} ${message}\n`),
  }
}
