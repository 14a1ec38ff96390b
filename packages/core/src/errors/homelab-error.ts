import { redact } from '../secret.js'

export type ErrorContext = {
  /** The step that failed, filled in by the runner when it catches the error. */
  step?: string
  /** The machine or endpoint involved: a node, a Pi-hole URL, the API server. */
  host?: string
  /** A config key path (`dns.piholes[1].url`) or a file path. */
  key?: string
  path?: string
  status?: number
  /** What the user can do about it; appended to the message. */
  hint?: string
  cause?: unknown
}

/**
 * Base of every error the tool raises on purpose. The message says what failed, where, and what to do; it is
 * scrubbed of every known secret value, so an upstream error that echoes a password cannot leak it.
 */
export class HomelabError extends Error {
  step: string | undefined
  readonly host: string | undefined
  readonly key: string | undefined
  readonly path: string | undefined
  readonly status: number | undefined
  readonly hint: string | undefined

  constructor(message: string, context: ErrorContext = {}) {
    const full = context.hint ? `${message}; ${context.hint}` : message
    super(redact(full), context.cause === undefined ? undefined : { cause: context.cause })
    this.name = new.target.name
    this.step = context.step
    this.host = context.host
    this.key = context.key
    this.path = context.path
    this.status = context.status
    this.hint = context.hint
  }
}

/** A message for any thrown value, scrubbed of secrets, with the causes' messages appended once each. */
export function describeError(error: unknown): string {
  const parts: string[] = []
  let current: unknown = error
  for (let depth = 0; current !== undefined && current !== null && depth < 5; depth++) {
    const text = current instanceof Error ? current.message : String(current)
    if (text && !parts.some((p) => p.includes(text))) parts.push(text)
    current = current instanceof Error ? current.cause : undefined
  }
  return redact(parts.join(': caused by: '))
}
