import { inspect } from 'node:util'

/** A lab credential (admin token, sudo password): readable through reveal(), masked everywhere else. */
export class LabSecret {
  readonly #value: string

  constructor(value: string) {
    this.#value = value
  }

  reveal(): string {
    return this.#value
  }

  toString(): string {
    return '****'
  }

  toJSON(): string {
    return '****'
  }

  [inspect.custom](): string {
    return 'LabSecret(****)'
  }
}
