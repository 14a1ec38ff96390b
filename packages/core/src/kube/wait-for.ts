import { TimeoutError } from '../errors/timeout-error.js'

export type WaitOptions = {
  /** What is awaited, for progress lines and the timeout message: `Certificate homelab/registry Ready`. */
  what: string
  timeoutMs: number
  intervalMs?: number
  signal?: AbortSignal
  progress?: (message: string) => void
  /** What to do when it times out, appended to the message. */
  hint?: string
}

/**
 * Polls `probe` until it reports done. The probe also says what it saw, so a timeout can tell the user the last state
 * rather than only that time ran out.
 */
export async function waitFor(probe: () => Promise<{ done: boolean; seen: string }>, options: WaitOptions): Promise<void> {
  const started = Date.now()
  const interval = options.intervalMs ?? 1000
  let seen = 'nothing yet'
  let lastReport: number | undefined
  for (;;) {
    if (options.signal?.aborted) throw new TimeoutError(`interrupted while waiting for ${options.what} (last seen: ${seen})`)
    const result = await probe()
    seen = result.seen
    if (result.done) return
    const elapsed = Date.now() - started
    if (elapsed >= options.timeoutMs) {
      throw new TimeoutError(`timed out after ${Math.round(options.timeoutMs / 1000)}s waiting for ${options.what} (last seen: ${seen})`, options.hint ? { hint: options.hint } : {})
    }
    // Said at once when it has to wait at all, then every 5 s: a silent wait looks like a hang.
    if (options.progress && (lastReport === undefined || elapsed - lastReport >= 5000)) {
      lastReport = elapsed
      options.progress(`waiting for ${options.what} (${Math.round(elapsed / 1000)}s, ${seen})`)
    }
    await new Promise((resolve) => setTimeout(resolve, Math.min(interval, options.timeoutMs - elapsed)))
  }
}
