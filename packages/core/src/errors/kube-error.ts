import { HomelabError, type ErrorContext } from './homelab-error.js'

/** The API server refused or failed a request; `reason` is the Status reason (`Conflict`, `Forbidden`, …). */
export class KubeError extends HomelabError {
  readonly reason: string | undefined
  readonly object: string | undefined

  constructor(message: string, context: ErrorContext & { reason?: string; object?: string }) {
    super(message, context)
    this.reason = context.reason
    this.object = context.object
  }
}

/** Server-side apply found fields owned by another manager. */
export class ApplyConflictError extends KubeError {
  readonly conflicts: readonly { manager: string; field: string }[]

  constructor(message: string, context: ErrorContext & { object: string; conflicts: { manager: string; field: string }[] }) {
    super(message, { ...context, reason: 'Conflict' })
    this.conflicts = context.conflicts
  }
}
