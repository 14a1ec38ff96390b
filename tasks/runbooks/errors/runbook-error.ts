import { HomelabError, type ErrorContext } from '@homelab/core'

/** A runbook (preflight, status, rotate-credentials, teardown) found something it cannot go past; the message names the fix. */
export class RunbookError extends HomelabError {
  constructor(message: string, context: ErrorContext = {}) {
    super(message, context)
  }
}
