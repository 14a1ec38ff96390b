import { HttpError, type ErrorContext } from '@homelab/core'

/**
 * A Distribution API request that failed: method, URL (never a credential) and status in the message, the registry's
 * own error code (`MANIFEST_UNKNOWN`, `UNAUTHORIZED`, …) when it sent one, and what to do about it.
 */
export class RegistryError extends HttpError {
  readonly code: string | undefined

  constructor(message: string, context: ErrorContext & { method: string; url: string; body?: string; code?: string }) {
    super(message, context)
    this.code = context.code
  }
}
