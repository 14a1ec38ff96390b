import { LabError, type LabErrorContext } from './lab-error.js'

/** A program the lab runs (apt-get, make, openssl, …) failed; carries its argv, exit code and output tail. */
export class LabCommandError extends LabError {
  readonly argv: readonly string[]
  readonly exitCode: number | null
  readonly outputTail: string

  constructor(message: string, context: LabErrorContext & { argv: readonly string[]; exitCode: number | null; outputTail: string }) {
    super(message, context)
    this.argv = context.argv
    this.exitCode = context.exitCode
    this.outputTail = context.outputTail
  }
}
