/*
 * The lab is a fixture that the tool's tests run against, so it depends on nothing of the tool itself
 * (@homelab/core): a bug in the code under test must not be able to change the fixture that judges it.
 */
export type LabErrorContext = { host?: string; path?: string; status?: number; reason?: string; object?: string; hint?: string | undefined; cause?: unknown }

/** Base of the lab's errors: what failed, where, and what to do. */
export class LabError extends Error {
  readonly host: string | undefined
  readonly path: string | undefined
  readonly status: number | undefined
  readonly reason: string | undefined
  readonly object: string | undefined
  readonly hint: string | undefined

  constructor(message: string, context: LabErrorContext = {}) {
    super(context.hint ? `${message}; ${context.hint}` : message, context.cause === undefined ? undefined : { cause: context.cause })
    this.name = new.target.name
    this.host = context.host
    this.path = context.path
    this.status = context.status
    this.reason = context.reason
    this.object = context.object
    this.hint = context.hint
  }
}

/** A wait in the lab ran out. */
export class LabTimeoutError extends LabError {}

/** The lab's API server refused or failed a request. */
export class LabKubeError extends LabError {}
