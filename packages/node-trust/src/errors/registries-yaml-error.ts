import { HomelabError, type ErrorContext } from '@homelab/core'

/** A node's registries.yaml that we must not touch: it does not parse, is too big, or expands too far. */
export class RegistriesYamlError extends HomelabError {
  readonly line: number | undefined
  readonly column: number | undefined

  constructor(message: string, context: ErrorContext & { line?: number; column?: number } = {}) {
    super(message, context)
    this.line = context.line
    this.column = context.column
  }
}
