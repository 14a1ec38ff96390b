import { HomelabError, type ErrorContext } from '@homelab/core'

/** The registry's PersistentVolumeClaim exists with another size or class than config asks for. */
export class PvcMismatchError extends HomelabError {
  readonly object: string

  constructor(message: string, context: ErrorContext & { object: string }) {
    super(message, context)
    this.object = context.object
  }
}
