import { HomelabError, type ErrorContext } from '@homelab/core'

/** The registry answered a login or push differently from what the runbook needs. */
export class RegistryLoginError extends HomelabError {
  constructor(message: string, context: ErrorContext = {}) {
    super(message, context)
  }
}
