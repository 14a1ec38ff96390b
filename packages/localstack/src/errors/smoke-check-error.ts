import type { ErrorContext } from '@homelab/core'
import { LocalstackError } from './localstack-error.js'

/** An AWS call of a smoke check failed: names the service, the operation and the endpoint. */
export class SmokeCheckError extends LocalstackError {
  readonly service: string
  readonly operation: string

  constructor(message: string, context: ErrorContext & { service: string; operation: string }) {
    super(message, context)
    this.service = context.service
    this.operation = context.operation
  }
}
