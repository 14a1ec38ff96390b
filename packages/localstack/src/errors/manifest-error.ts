import type { ErrorContext } from '@homelab/core'
import { LocalstackError } from './localstack-error.js'

/** A manifest under manifests/localstack that cannot be read, or an object that fails its schema. */
export class ManifestError extends LocalstackError {
  readonly object: string | undefined
  readonly field: string | undefined

  constructor(message: string, context: ErrorContext & { object?: string; field?: string } = {}) {
    super(message, context)
    this.object = context.object
    this.field = context.field
  }
}
