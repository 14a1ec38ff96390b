import { HomelabError, type ErrorContext } from './homelab-error.js'

/** A PersistentVolumeClaim exists with another size or storage class than config asks for. */
export class PvcMismatchError extends HomelabError {
  readonly object: string

  constructor(message: string, context: ErrorContext & { object: string }) {
    super(message, context)
    this.object = context.object
  }
}
