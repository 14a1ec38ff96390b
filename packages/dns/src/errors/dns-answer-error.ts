import { HomelabError, type ErrorContext } from '@homelab/core'

/** `verify` asked a Pi-hole's DNS and got another answer than the records say it should give. */
export class DnsAnswerError extends HomelabError {
  constructor(message: string, context: ErrorContext = {}) {
    super(message, context)
  }
}
