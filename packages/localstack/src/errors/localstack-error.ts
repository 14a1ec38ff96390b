import { HomelabError, type ErrorContext } from '@homelab/core'

/** Base of this package's errors. */
export class LocalstackError extends HomelabError {
  constructor(message: string, context: ErrorContext = {}) {
    super(message, context)
  }
}
