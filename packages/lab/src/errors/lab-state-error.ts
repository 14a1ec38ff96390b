import { HomelabError, type ErrorContext } from '@homelab/core'

/** The lab cannot start or stop because of what it found: a busy port, a folder it does not own, a missing file. */
export class LabStateError extends HomelabError {
  constructor(message: string, context: ErrorContext = {}) {
    super(message, context)
  }
}
