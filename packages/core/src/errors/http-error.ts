import { HomelabError, type ErrorContext } from './homelab-error.js'

/** A request that failed: the method, URL (without query secrets) and status are in the message. */
export class HttpError extends HomelabError {
  readonly method: string
  readonly url: string
  readonly body: string | undefined

  constructor(message: string, context: ErrorContext & { method: string; url: string; body?: string }) {
    super(message, context)
    this.method = context.method
    this.url = context.url
    this.body = context.body
  }
}
