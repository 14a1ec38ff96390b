import type { Recap } from '@homelab/core'

/** One line of turbo's output, split into the task that printed it and what it printed. */
export type TaskLine = { task: string | undefined; text: string }

// Colour codes turbo puts around its prefixes when it writes to a terminal.
const ANSI = /\x1b\[[0-9;]*m/g

/** Pure. `@homelab/dns:bootstrap: recap dns: …` → task `@homelab/dns#bootstrap`; `//:preflight: …` → `//#preflight`. */
export function splitTaskLine(line: string): TaskLine {
  const plain = line.replace(ANSI, '')
  const match = /^(@[\w.-]+\/[\w.-]+|[\w.-]+|\/\/):([\w:.-]+?): ?(.*)$/.exec(plain)
  return match ? { task: `${match[1]}#${match[2]}`, text: match[3]! } : { task: undefined, text: plain }
}

const HUMAN_RECAP = /^recap (.+?)( \(plan\))?: ok=(\d+) changed=(\d+) failed=(\d+) skipped=(\d+)$/

/** Pure. The recap a task printed, in either output mode, or undefined for any other line. */
export function parseRecap(text: string, json: boolean): Recap | undefined {
  if (json) {
    if (!text.startsWith('{')) return undefined
    const event = JSON.parse(text) as Partial<Recap> & { event?: string }
    return event.event === 'recap' ? (event as Recap) : undefined
  }
  const m = HUMAN_RECAP.exec(text)
  return m ? { title: m[1]!, plan: m[2] !== undefined, ok: +m[3]!, changed: +m[4]!, failed: +m[5]!, skipped: +m[6]! } : undefined
}

/** Pure. Every recap of the run added up, titled `total`. */
export function totalOf(recaps: readonly Recap[], plan: boolean): Recap {
  const sum = (k: 'ok' | 'changed' | 'failed' | 'skipped') => recaps.reduce((n, r) => n + r[k], 0)
  return { title: 'total', plan, ok: sum('ok'), changed: sum('changed'), failed: sum('failed'), skipped: sum('skipped') }
}
