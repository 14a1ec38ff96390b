/*
 * Words for config problems: "expected X, got Y" and "did you mean". Kept apart from the schema so the loader, the
 * env mapping and the schema all phrase things the same way.
 */

/** How a found value is shown. Secrets show only their kind: a typo'd password is still a password. */
export function describeFound(value: unknown, options: { secret?: boolean } = {}): string {
  if (value === undefined) return 'nothing'
  if (value === null) return 'null (an empty value)'
  if (Array.isArray(value)) return value.length === 0 ? 'an empty list' : 'a list'
  if (typeof value === 'object') return 'a mapping'
  if (options.secret) return `a ${typeof value}`
  if (typeof value === 'string') return JSON.stringify(value.length > 80 ? `${value.slice(0, 77)}...` : value)
  return String(value)
}

export const expectedGot = (expected: string, found: unknown, options: { secret?: boolean } = {}) =>
  `expected ${expected}, got ${describeFound(found, options)}`

/** Classic edit distance; config keys are short, so the quadratic table is cheap. */
export function editDistance(a: string, b: string): number {
  let previous = Array.from({ length: b.length + 1 }, (_, i) => i)
  for (let i = 1; i <= a.length; i++) {
    const current = [i]
    for (let j = 1; j <= b.length; j++) {
      const substitution = (previous[j - 1] ?? 0) + (a[i - 1] === b[j - 1] ? 0 : 1)
      current.push(Math.min((previous[j] ?? 0) + 1, (current[j - 1] ?? 0) + 1, substitution))
    }
    previous = current
  }
  return previous[b.length] ?? 0
}

/** The closest candidate, if it is close enough to be a typo rather than a different word. */
export function closestMatch(word: string, candidates: readonly string[]): string | undefined {
  const scored = candidates
    .map((candidate) => ({ candidate, distance: editDistance(word.toLowerCase(), candidate.toLowerCase()) }))
    .sort((x, y) => x.distance - y.distance)
  const best = scored[0]
  const tolerance = Math.max(2, Math.floor(word.length / 3))
  return best && best.distance <= tolerance ? best.candidate : undefined
}

/** `; did you mean \`host\`?`, or nothing when there is no suggestion. */
export const suggestion = (match: string | undefined, quote = (s: string) => `\`${s}\``) => (match === undefined ? '' : `; did you mean ${quote(match)}?`)

export const didYouMean = (word: string, candidates: readonly string[], quote?: (s: string) => string) => suggestion(closestMatch(word, candidates), quote)
