import { readdirSync, readFileSync } from 'node:fs'

/** What a sampler saw: how many passes over /proc it made, and every distinct argv, its elements joined by spaces. */
export type ArgvSamples = { samples: number; seen: Set<string> }

export type ArgvSampler = {
  /** Passes made so far. */
  readonly samples: number
  /** Stops sampling; returns everything seen. */
  stop(): ArgvSamples
}

/**
 * Reads `/proc/<pid>/cmdline` of every process every `intervalMs` until stopped: the tool's side and the nodes' side
 * alike, since a secret in any argv is readable by every local user. Tests look for their secrets in `seen`.
 */
export function sampleProcessArgv(intervalMs = 1): ArgvSampler {
  const taken: ArgvSamples = { samples: 0, seen: new Set() }
  const timer = setInterval(() => {
    taken.samples++
    readEveryArgv(taken.seen)
  }, intervalMs)
  return {
    get samples() {
      return taken.samples
    },
    stop: () => {
      clearInterval(timer)
      return taken
    },
  }
}

function readEveryArgv(into: Set<string>): void {
  for (const pid of readdirSync('/proc').filter((p) => /^\d+$/.test(p))) {
    try {
      const argv = readFileSync(`/proc/${pid}/cmdline`, 'utf8').split('\0').filter(Boolean).join(' ')
      if (argv) into.add(argv)
    } catch (error) {
      // The process ended between the listing and the read: nothing left to see.
      if (!['ENOENT', 'ESRCH'].includes((error as NodeJS.ErrnoException).code ?? '')) throw error
    }
  }
}
