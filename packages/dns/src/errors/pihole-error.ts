import { HomelabError, type ErrorContext } from '@homelab/core'

/**
 * A Pi-hole refused or failed a request. The message names the Pi-hole, the request and what to do; never the
 * password or a token (v5 sends its token in the query, which is never shown).
 */
export class PiholeError extends HomelabError {
  readonly url: string
  readonly method: string | undefined

  constructor(message: string, context: ErrorContext & { url: string; method?: string }) {
    super(message, { host: context.url, ...context })
    this.url = context.url
    this.method = context.method
  }
}
