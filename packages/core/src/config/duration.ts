import { QuantityFormatError } from './quantity.js'

const UNITS = { ms: 1, s: 1000, m: 60_000, h: 3_600_000 } as const
const DURATION_PATTERN = /^(?:\d+(?:ms|s|m|h))+$/
const PART_PATTERN = /(\d+)(ms|s|m|h)/g

/** A span of time written like Go and Kubernetes write it (`30s`, `5m`, `1m30s`, `500ms`). */
export class Duration {
  static readonly forms = 'a duration such as 500ms, 30s, 5m or 1h30m'

  private constructor(readonly milliseconds: number) {}

  static millis(ms: number): Duration {
    if (!Number.isSafeInteger(ms) || ms < 0) throw new QuantityFormatError(`expected whole, non-negative milliseconds, got ${ms}`)
    return new Duration(ms)
  }

  static seconds = (n: number) => Duration.millis(n * UNITS.s)
  static minutes = (n: number) => Duration.millis(n * UNITS.m)

  // A bare number is refused: 30 could mean seconds or milliseconds, and a wrong guess is a silent bug.
  static parse(text: string): Duration {
    if (!DURATION_PATTERN.test(text)) throw new QuantityFormatError(`expected ${Duration.forms}, got ${JSON.stringify(text)}`)
    let ms = 0
    for (const [, amount, unit] of text.matchAll(PART_PATTERN)) ms += Number(amount) * UNITS[unit as keyof typeof UNITS]
    return Duration.millis(ms)
  }

  toString(): string {
    let rest = this.milliseconds
    let out = ''
    for (const unit of ['h', 'm', 's', 'ms'] as const) {
      const count = Math.floor(rest / UNITS[unit])
      if (count > 0) out += `${count}${unit}`
      rest -= count * UNITS[unit]
    }
    return out || '0s'
  }

  toJSON(): string {
    return this.toString()
  }
}
