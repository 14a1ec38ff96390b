import { HomelabError, type ErrorContext } from '../errors/homelab-error.js'

/**
 * A manifest under manifests/ could not be read, or a rendered object failed its schema. Raised before anything is
 * sent to the cluster; `object` and `field` say exactly what to fix.
 */
export class ManifestError extends HomelabError {
  readonly object: string | undefined
  readonly field: string | undefined

  constructor(message: string, context: ErrorContext & { object?: string; field?: string } = {}) {
    super(message, context)
    this.object = context.object
    this.field = context.field
  }
}
