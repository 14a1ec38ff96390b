import { inspect } from 'node:util'

export const MASK = '****'

declare const secretBrand: unique symbol

/**
 * A value that must never reach output. Nominal: a plain string does not type-check as a Secret.
 * `reveal()` is the only way to read it; every other rendering gives the mask.
 */
export class Secret {
  declare private readonly [secretBrand]: true
  readonly #value: string

  constructor(value: string) {
    if (typeof value !== 'string') throw new TypeError('Secret value must be a string')
    this.#value = value
    registerSecretValue(value)
  }

  reveal(): string {
    return this.#value
  }

  equals(other: Secret): boolean {
    return this.#value === other.#value
  }

  toString(): string {
    return MASK
  }

  toJSON(): string {
    return MASK
  }

  [Symbol.toPrimitive](): string {
    return MASK
  }

  [inspect.custom](): string {
    return `Secret(${MASK})`
  }
}

export const isSecret = (v: unknown): v is Secret => v instanceof Secret

/*
 * Every secret value this process has seen, so the reporter and error paths can scrub strings that reached them by
 * another way (an upstream error message echoing a request body, say). Short values are not scrubbed: masking every
 * "a" in the output would destroy it and protects nothing.
 */
// Longest first: a secret that is a substring of another would otherwise be masked inside it and leave the longer
// one's remaining characters in the output.
let knownValues: string[] = []
const MIN_SCRUB_LENGTH = 4

function registerSecretValue(value: string): void {
  if (value.length < MIN_SCRUB_LENGTH || knownValues.includes(value)) return
  knownValues = [...knownValues, value].sort((a, b) => b.length - a.length)
}

/** Replaces every known secret value (and its URL-encoded form) in `text` with the mask. */
export function redact(text: string): string {
  let out = text
  for (const value of knownValues) {
    if (!out.includes(value) && !out.includes(encodeURIComponent(value))) continue
    out = out.split(value).join(MASK).split(encodeURIComponent(value)).join(MASK)
  }
  return out
}
