import { HomelabError, type ErrorContext } from '@homelab/core'

/** A wanted name already has records the tool does not own: it is left alone until the user decides. */
export class DnsConflictError extends HomelabError {
  readonly names: readonly string[]

  constructor(message: string, context: ErrorContext & { names: readonly string[] }) {
    super(message, context)
    this.names = context.names
  }
}
