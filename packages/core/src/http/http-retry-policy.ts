/*
 * When a failed request is tried again. Retrying is only safe where a repeat cannot do something twice: idempotent
 * methods, or a caller that says so (`retry: true`, e.g. a login that has no side effect).
 */

export type RetryPolicy = { attempts: number; baseDelayMs: number; maxDelayMs: number }

export const DEFAULT_RETRIES: RetryPolicy = { attempts: 3, baseDelayMs: 250, maxDelayMs: 5000 }

const IDEMPOTENT = new Set(['GET', 'HEAD', 'OPTIONS', 'PUT', 'DELETE', 'TRACE'])

export const isIdempotent = (method: string) => IDEMPOTENT.has(method.toUpperCase())

// 501 and 505 say the server will never do this; repeating cannot help.
export const isRetryableStatus = (status: number) => status === 429 || (status >= 500 && status !== 501 && status !== 505)

/** Exponential backoff with "equal jitter": never less than half the step, so retries still spread out. */
export function backoffDelayMs(policy: RetryPolicy, attempt: number, random: () => number = Math.random): number {
  const step = Math.min(policy.maxDelayMs, policy.baseDelayMs * 2 ** (attempt - 1))
  return Math.round(step / 2 + (random() * step) / 2)
}

/** Retry-After in ms (seconds or an HTTP date), or undefined when absent or unreadable. */
export function retryAfterMs(header: string | string[] | undefined, now: number = Date.now()): number | undefined {
  const value = Array.isArray(header) ? header[0] : header
  if (value === undefined || value.trim() === '') return undefined
  if (/^\d+$/.test(value.trim())) return Number(value.trim()) * 1000
  const date = Date.parse(value)
  return Number.isNaN(date) ? undefined : Math.max(0, date - now)
}

/** The config's `retries` (durations) as the client's policy (milliseconds). */
export const retryPolicyFromConfig = (retries: { attempts: number; baseDelay: { milliseconds: number }; maxDelay: { milliseconds: number } }): RetryPolicy => ({
  attempts: retries.attempts,
  baseDelayMs: retries.baseDelay.milliseconds,
  maxDelayMs: retries.maxDelay.milliseconds,
})
