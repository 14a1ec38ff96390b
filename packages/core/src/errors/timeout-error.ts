import { HomelabError, type ErrorContext } from './homelab-error.js'

/** A wait ran out: says what was awaited, for how long, and what was last seen. */
export class TimeoutError extends HomelabError {
  constructor(message: string, context: ErrorContext = {}) {
    super(message, context)
  }
}
