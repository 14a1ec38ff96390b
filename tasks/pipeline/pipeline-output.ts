import { createReporter, type Output, type Recap, type TaskIo } from '@homelab/core'
import { parseRecap, splitTaskLine, totalOf } from './pipeline-recaps.js'

/** The tasks a whole pipeline runs, so the total can name the ones a failed dependency stopped. */
export const PIPELINE_TASKS: Readonly<Record<string, readonly string[]>> = {
  bootstrap: ['//#preflight-cluster', '//#preflight-nodes', '@homelab/registry#bootstrap', '@homelab/dns#bootstrap', '@homelab/localstack#bootstrap', '@homelab/node-trust#bootstrap', '//#verify-all'],
  plan: ['@homelab/registry#plan', '@homelab/dns#plan', '@homelab/localstack#plan', '@homelab/node-trust#plan'],
  verify: ['@homelab/registry#verify', '@homelab/dns#verify', '@homelab/localstack#verify', '@homelab/node-trust#verify'],
}

export type PipelineOutput = {
  /** One line as turbo prints it: `@homelab/dns:bootstrap: text`, or a line of turbo's own. */
  line(text: string): void
  /** Where lines that carry no event go under --json (turbo's own, pnpm's banners, a task's stderr). */
  aside(text: string): void
  /** Every recap so far, added up. */
  soFar(plan: boolean): Recap
  /** Warns about every pipeline task that printed no recap, then prints the total. */
  finish(options: { verb: string; plan: boolean; filtered: boolean }): void
}

/**
 * The pipeline's output, whoever runs the tasks: every line relayed with its task prefix, each recap collected, a
 * total at the end. Under --json stdout carries events only, each tagged with the task that sent it.
 */
export function pipelineOutput(json: boolean, io: Pick<TaskIo, 'stdout' | 'stderr'>): PipelineOutput {
  const recaps: Recap[] = []
  const reported = new Set<string>()
  return {
    line(line) {
      const { task, text } = splitTaskLine(line)
      const recap = task ? parseRecap(text, json) : undefined
      if (recap && task) {
        recaps.push(recap)
        reported.add(task)
      }
      if (!json) io.stdout.write(`${line}\n`)
      else if (task && text.startsWith('{')) io.stdout.write(`${JSON.stringify({ ...(JSON.parse(text) as object), task })}\n`)
      else io.stderr.write(`${line}\n`)
    },
    aside: (text) => io.stderr.write(`${text}\n`),
    soFar: (plan) => totalOf(recaps, plan),
    finish({ verb, plan, filtered }) {
      const reporter = createReporter({ json, out: io.stdout })
      if (!filtered) {
        for (const task of PIPELINE_TASKS[verb] ?? []) {
          if (!reported.has(task)) reporter.warn(task, 'did not finish a run: it failed before its recap, or a task it depends on failed (see above)')
        }
      }
      reporter.recap(totalOf(recaps, plan))
    },
  }
}

/** Pure. The prefix turbo puts before a task's lines: `@homelab/dns#bootstrap` → `@homelab/dns:bootstrap: `. */
export function taskPrefix(taskId: string): string {
  const hash = taskId.lastIndexOf('#')
  return `${taskId.slice(0, hash)}:${taskId.slice(hash + 1)}: `
}

/** An Output that hands on whole lines, each with the task's prefix; `end()` hands on a last unterminated line. */
export function prefixedLines(prefix: string, onLine: (line: string) => void): Output & { end(): void } {
  let pending = ''
  return {
    write(chunk: string | Uint8Array) {
      pending += typeof chunk === 'string' ? chunk : Buffer.from(chunk).toString()
      const lines = pending.split('\n')
      pending = lines.pop()!
      for (const line of lines) onLine(`${prefix}${line}`)
      return true
    },
    end() {
      if (pending) onLine(`${prefix}${pending}`)
      pending = ''
    },
  }
}

/**
 * The pipeline's stdout written once per turn of the event loop instead of once per line: a no-op bootstrap prints
 * about 160 lines, and each write is a system call that wakes whoever reads the pipe. A line for stderr first hands
 * on what stdout holds, so the two keep their order on a terminal; so do `close()`, the process's exit, and a crash
 * (before Node prints its stack: the lines that led up to it come first).
 */
export function batchedOutput(io: Pick<TaskIo, 'stdout' | 'stderr'>): Pick<TaskIo, 'stdout' | 'stderr'> & { close(): void } {
  let held = ''
  let scheduled = false
  const flush = () => {
    scheduled = false
    if (!held) return
    const text = held
    held = ''
    io.stdout.write(text)
  }
  process.on('exit', flush)
  process.on('uncaughtExceptionMonitor', flush)
  return {
    stdout: {
      write(text: string) {
        held += text
        if (!scheduled) {
          scheduled = true
          setImmediate(flush)
        }
        return true
      },
      ...(io.stdout.isTTY === undefined ? {} : { isTTY: io.stdout.isTTY }),
    },
    stderr: {
      write(text: string) {
        flush()
        return io.stderr.write(text)
      },
    },
    close() {
      flush()
      process.off('exit', flush)
      process.off('uncaughtExceptionMonitor', flush)
    },
  }
}
