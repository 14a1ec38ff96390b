import { HomelabError, type ErrorContext } from '@homelab/core'

/** A program the lab runs (apt-get, make, openssl, …) failed; carries its argv, exit code and output tail. */
export class LabCommandError extends HomelabError {
  readonly argv: readonly string[]
  readonly exitCode: number | null
  readonly outputTail: string

  constructor(message: string, context: ErrorContext & { argv: readonly string[]; exitCode: number | null; outputTail: string }) {
    super(message, context)
    this.argv = context.argv
    this.exitCode = context.exitCode
    this.outputTail = context.outputTail
  }
}
