import { parse as parseYaml } from 'yaml'
import { closestMatch } from './config-issue-text.js'

/*
 * HOMELAB_* environment overrides. One rule for every key:
 *   HOMELAB_<KEY>__<KEY>__…=value   `__` separates path segments, `_` separates words of a camelCase key,
 *                                    a number is a list index: HOMELAB_DNS__PIHOLES__0__PASSWORD → dns.piholes[0].password
 * Values: `true`/`false` become booleans, plain numbers become numbers, `[a, b]` / `{…}` are YAML flow; anything else
 * is a string. Secret keys are always taken verbatim. An empty value removes the key (so a default applies again).
 * Setting `<key>` drops the file's `<key>File` and the other way round: the environment replaces the pair as a whole.
 * HOMELAB_CONFIG names the config file and is not an override.
 */

export const ENV_PREFIX = 'HOMELAB_'
export const CONFIG_PATH_VARIABLE = 'HOMELAB_CONFIG'
export const SECRET_KEYS: ReadonlySet<string> = new Set(['password', 'authToken', 'sudoPassword'])

type PathSegment = string | number
export type EnvOverrides = {
  /** Each override's key path (`dns.piholes[0].password`) and the variable that set it, for error messages. */
  origins: { path: PathSegment[]; variable: string }[]
  issues: string[]
}

const camelCase = (segment: string) => segment.toLowerCase().replace(/_([a-z0-9])/g, (_, next: string) => next.toUpperCase())

export function envVariableName(path: readonly PathSegment[]): string {
  return ENV_PREFIX + path.map((s) => (typeof s === 'number' ? String(s) : s.replace(/[A-Z]/g, (c) => `_${c}`).toUpperCase())).join('__')
}

function parseEnvValue(key: string, raw: string): unknown {
  if (SECRET_KEYS.has(key)) return raw
  if (raw === 'true' || raw === 'false') return raw === 'true'
  if (/^-?\d+(\.\d+)?$/.test(raw)) return Number(raw)
  if (/^[[{]/.test(raw)) return parseYaml(raw)
  return raw
}

/** Applies the overrides in `env` to `data` (mutated: it is the loader's private copy). */
export function applyEnvOverrides(data: Record<string, unknown>, env: Record<string, string | undefined>, topLevelKeys: readonly string[]): EnvOverrides {
  const result: EnvOverrides = { origins: [], issues: [] }
  for (const variable of Object.keys(env).filter((name) => name.startsWith(ENV_PREFIX)).sort()) {
    if (variable === CONFIG_PATH_VARIABLE) continue
    const path = variable.slice(ENV_PREFIX.length).split('__').map((s) => (/^\d+$/.test(s) ? Number(s) : camelCase(s)))
    const first = String(path[0])
    if (!topLevelKeys.includes(first)) {
      const nearMiss = nearMissHint(first, topLevelKeys)
      if (nearMiss) result.issues.push(`${variable}: not a config key${nearMiss}`)
      continue
    }
    const problem = setPath(data, path, env[variable] ?? '')
    if (problem) result.issues.push(`${variable}: ${problem}`)
    else result.origins.push({ path, variable })
  }
  return result
}

/** HOMELAB_INGRESS_IP is the likely slip for HOMELAB_INGRESS__IP; other HOMELAB_* names belong to someone else. */
function nearMissHint(first: string, topLevelKeys: readonly string[]): string | undefined {
  const owner = topLevelKeys.find((key) => first.startsWith(key) && /^[A-Z]/.test(first.slice(key.length)))
  if (owner) {
    const rest = first.slice(owner.length)
    return `; did you mean ${envVariableName([owner, rest[0]?.toLowerCase() + rest.slice(1)])}? (\`__\` separates keys)`
  }
  const close = closestMatch(first, topLevelKeys)
  return close ? `; did you mean ${envVariableName([close])}?` : undefined
}

function setPath(data: Record<string, unknown>, path: PathSegment[], raw: string): string | undefined {
  let node: Record<string, unknown> | unknown[] = data
  for (const [index, segment] of path.slice(0, -1).entries()) {
    const nextIsIndex = typeof path[index + 1] === 'number'
    const child: unknown = (node as Record<PathSegment, unknown>)[segment]
    if (child === undefined || child === null) {
      ;(node as Record<PathSegment, unknown>)[segment] = nextIsIndex ? [] : {}
    } else if (typeof child !== 'object' || Array.isArray(child) !== nextIsIndex) {
      return `cannot set a key inside ${keyPathText(path.slice(0, index + 1))}: the file has ${nextIsIndex ? 'no list' : 'no mapping'} there`
    }
    node = (node as Record<PathSegment, unknown>)[segment] as Record<string, unknown>
  }
  const key = path[path.length - 1] as PathSegment
  const target = node as Record<PathSegment, unknown>
  dropPairedKey(target, String(key))
  if (raw === '') delete target[key]
  else target[key] = parseEnvValue(String(key), raw)
  return undefined
}

function dropPairedKey(target: Record<PathSegment, unknown>, key: string): void {
  if (key.endsWith('File')) delete target[key.slice(0, -'File'.length)]
  else delete target[`${key}File`]
}

/** `dns.piholes[1].url`: the form every config message uses. */
export function keyPathText(path: readonly PropertyKey[]): string {
  return path.reduce<string>((text, segment) => (typeof segment === 'number' ? `${text}[${segment}]` : text ? `${text}.${String(segment)}` : String(segment)), '')
}
