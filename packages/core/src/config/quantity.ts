/*
 * Kubernetes resource quantities as typed values (cdk8s's `Size` idea): config holds `Size.gibibytes(30)`, not
 * "30Gi", so comparisons are numeric and rendering is canonical. The canonical form matches what the API server
 * stores, so a re-apply of the same quantity is not a diff.
 */

const BINARY_UNITS = [
  ['Ei', 2 ** 60],
  ['Pi', 2 ** 50],
  ['Ti', 2 ** 40],
  ['Gi', 2 ** 30],
  ['Mi', 2 ** 20],
  ['Ki', 2 ** 10],
] as const
const DECIMAL_UNITS = [
  ['E', 1e18],
  ['P', 1e15],
  ['T', 1e12],
  ['G', 1e9],
  ['M', 1e6],
  ['k', 1e3],
] as const

const SIZE_FORMS = 'a number with a Kubernetes suffix: Ki, Mi, Gi, Ti, Pi, Ei (binary) or k, M, G, T, P, E (decimal), e.g. 30Gi or 512Mi'
const CPU_FORMS = 'cores (1, 0.5) or millicores (500m)'
const SIZE_PATTERN = /^(\d+(?:\.\d+)?)(Ki|Mi|Gi|Ti|Pi|Ei|k|M|G|T|P|E)?$/
const CPU_PATTERN = /^(\d+(?:\.\d+)?)(m)?$/

/** A quantity that is not one of the accepted forms; the message names them. */
export class QuantityFormatError extends Error {}

type UnitSystem = 'binary' | 'decimal'

/** Bytes of memory or storage. */
export class Size {
  static readonly forms = SIZE_FORMS

  private constructor(
    readonly bytes: number,
    // Kept so a decimal size renders as `500M`, not as an odd count of Ki.
    private readonly system: UnitSystem,
  ) {}

  static bytesOf(bytes: number): Size {
    if (!Number.isSafeInteger(bytes) || bytes < 0) throw new QuantityFormatError(`expected a whole, non-negative byte count, got ${bytes}`)
    return new Size(bytes, 'binary')
  }

  static kibibytes = (n: number) => Size.bytesOf(n * 2 ** 10)
  static mebibytes = (n: number) => Size.bytesOf(n * 2 ** 20)
  static gibibytes = (n: number) => Size.bytesOf(n * 2 ** 30)
  static tebibytes = (n: number) => Size.bytesOf(n * 2 ** 40)

  /** Accepts what Kubernetes accepts for memory and storage, minus exponent notation nobody writes by hand. */
  static parse(text: string | number): Size {
    if (typeof text === 'number') return Size.bytesOf(text)
    const match = SIZE_PATTERN.exec(text)
    if (!match) throw new QuantityFormatError(`expected ${SIZE_FORMS}, got ${JSON.stringify(text)}${sizeHint(text)}`)
    const [, amount = '', suffix = ''] = match
    const unit = [...BINARY_UNITS, ...DECIMAL_UNITS].find(([name]) => name === suffix)
    const bytes = Number(amount) * (unit ? unit[1] : 1)
    if (!Number.isSafeInteger(bytes)) throw new QuantityFormatError(`expected a whole number of bytes below 8Pi, got ${JSON.stringify(text)}`)
    return new Size(bytes, suffix === '' || suffix.endsWith('i') ? 'binary' : 'decimal')
  }

  compare(other: Size): number {
    return this.bytes - other.bytes
  }

  /** The largest unit of the value's own system that divides it exactly, as the API server renders it. */
  toString(): string {
    const units = this.system === 'binary' ? BINARY_UNITS : DECIMAL_UNITS
    const unit = units.find(([, factor]) => this.bytes !== 0 && this.bytes % factor === 0)
    return unit ? `${this.bytes / unit[1]}${unit[0]}` : String(this.bytes)
  }

  toJSON(): string {
    return this.toString()
  }
}

/** CPU in millicores. */
export class Cpu {
  static readonly forms = CPU_FORMS

  private constructor(readonly millicores: number) {}

  static millis(millicores: number): Cpu {
    if (!Number.isSafeInteger(millicores) || millicores < 0) throw new QuantityFormatError(`expected whole, non-negative millicores, got ${millicores}`)
    return new Cpu(millicores)
  }

  static cores(cores: number): Cpu {
    return Cpu.parse(cores)
  }

  static parse(text: string | number): Cpu {
    const match = CPU_PATTERN.exec(String(text))
    if (!match) throw new QuantityFormatError(`expected ${CPU_FORMS}, got ${JSON.stringify(text)}`)
    const [, amount = '', milli] = match
    const millicores = milli ? Number(amount) : Number(amount) * 1000
    // Kubernetes rounds anything finer than 1m up; refusing it is clearer than a silent change.
    if (!Number.isInteger(Math.round(millicores * 1e6) / 1e6)) throw new QuantityFormatError(`expected at most millicore precision (1m = 0.001), got ${JSON.stringify(text)}`)
    return Cpu.millis(Math.round(millicores))
  }

  compare(other: Cpu): number {
    return this.millicores - other.millicores
  }

  toString(): string {
    return this.millicores % 1000 === 0 ? String(this.millicores / 1000) : `${this.millicores}m`
  }

  toJSON(): string {
    return this.toString()
  }
}

/** Points at the likely intent for the two common slips: a `B` suffix and a space before the unit. */
function sizeHint(text: string): string {
  const slip = /^(\d+(?:\.\d+)?)\s*([kKMGTPE])(i?)B?$/.exec(text.trim())
  if (!slip) return ''
  const [, amount, prefix = '', binary] = slip
  const unit = prefix === 'K' || prefix === 'k' ? 'Ki' : `${prefix}i`
  return binary ? `; did you mean "${amount}${unit}"?` : `; did you mean "${amount}${unit}" (binary) or "${amount}${prefix === 'K' ? 'k' : prefix}" (decimal)?`
}
