import type { z } from 'zod'
import { describeFound, didYouMean, expectedGot, suggestion } from './config-issue-text.js'
import { suggestKey } from './config-key-aliases.js'
import { keyPathText, SECRET_KEYS, type EnvOverrides } from './env-overrides.js'

type Issue = z.core.$ZodIssue
type PathSegment = PropertyKey

/**
 * Generic wording for zod's own issue kinds, given as the per-parse error map. Field schemas that know better set
 * their own message; this covers plain types, enums and list sizes. Secrets show only their kind, never their value.
 */
export function configErrorMap(issue: z.core.$ZodRawIssue): string | undefined {
  const secret = SECRET_KEYS.has(String(issue.path?.at(-1)))
  switch (issue.code) {
    case 'invalid_type':
      return expectedGot(issue.expected === 'array' ? 'a list' : issue.expected === 'object' ? 'a mapping' : issue.expected, issue.input, { secret })
    case 'invalid_value': {
      const values = issue.values.map((v) => JSON.stringify(v))
      return `${expectedGot(`one of ${values.join(', ')}`, issue.input, { secret })}${typeof issue.input === 'string' ? didYouMean(issue.input, issue.values.map(String), (s) => JSON.stringify(s)) : ''}`
    }
    case 'too_small':
      return `expected at least ${issue.minimum}${issue.origin === 'array' ? ' entries' : issue.origin === 'string' ? ' characters' : ''}, got ${secret ? 'less' : describeFound(issue.input)}`
    case 'too_big':
      return `expected at most ${issue.maximum}${issue.origin === 'array' ? ' entries' : ''}, got ${secret ? 'more' : describeFound(issue.input)}`
    default:
      return undefined
  }
}

/** Keys allowed at `path`, found by walking the schema; used to suggest the key that was meant. */
export function knownKeysAt(schema: z.core.$ZodType, path: readonly PathSegment[]): string[] {
  let node: z.core.$ZodType | undefined = schema
  const remaining = [...path]
  while (node) {
    const def = node._zod.def as unknown as Record<string, unknown> & { type: string }
    if (def.type === 'object' && remaining.length === 0) return Object.keys(def.shape as object)
    node = childSchema(def, remaining)
  }
  return []
}

/** One step down the schema; consumes a path segment for objects, lists and records, none for wrappers. */
function childSchema(def: Record<string, unknown> & { type: string }, remaining: PathSegment[]): z.core.$ZodType | undefined {
  switch (def.type) {
    case 'object':
      return (def.shape as Record<string, z.core.$ZodType>)[String(remaining.shift())]
    case 'array':
      remaining.shift()
      return def.element as z.core.$ZodType
    case 'record':
      remaining.shift()
      return def.valueType as z.core.$ZodType
    case 'pipe':
      return def.in as z.core.$ZodType
    default:
      return 'innerType' in def ? (def.innerType as z.core.$ZodType) : undefined
  }
}

export type IssueFormatting = {
  schema: z.core.$ZodType
  env?: EnvOverrides['origins']
  /** Where a key sits in the file (`homelab.yaml:12:5`), when it came from the file. */
  locate?: (path: readonly PathSegment[]) => string | undefined
}

/** One line per problem: `dns.piholes[1].url: expected an http(s) URL, got "pi.hole"`, plus where it came from. */
export function formatConfigIssues(issues: readonly Issue[], formatting: IssueFormatting): string[] {
  return issues.flatMap((issue) => {
    if (issue.code !== 'unrecognized_keys') return [line(issue.path, issue.message, formatting)]
    const known = knownKeysAt(formatting.schema, issue.path)
    return issue.keys.map((key) => line([...issue.path, key], `unknown key${suggestion(suggestKey(key, known))}`, formatting))
  })
}

function line(path: readonly PathSegment[], message: string, formatting: IssueFormatting): string {
  const origin = path.length === 0 ? undefined : formatting.env?.find((o) => startsWith(path, o.path) || startsWith(o.path, path))
  const where = origin ? ` (from ${origin.variable})` : formatting.locate?.(path)
  return `${keyPathText(path) || '(top level)'}: ${message}${where ? (origin ? where : ` (${where})`) : ''}`
}

const startsWith = (path: readonly PathSegment[], prefix: readonly PathSegment[]) =>
  prefix.length <= path.length && prefix.every((segment, i) => segment === path[i])
