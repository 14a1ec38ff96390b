import { LabStateError } from '../errors/lab-state-error.js'

/** A parsed Traefik rule: `Host(`a`) && PathPrefix(`/v2`) || !Method(`POST`)`. */
export type RuleNode =
  | { op: 'and' | 'or'; left: RuleNode; right: RuleNode }
  | { op: 'not'; inner: RuleNode }
  | { op: 'match'; matcher: 'Host' | 'Path' | 'PathPrefix' | 'Method'; values: string[] }

export type RuleRequest = { host: string; path: string; method: string }

const MATCHERS = new Set(['Host', 'Path', 'PathPrefix', 'Method'])
const TOKEN = /\s*(&&|\|\||!|\(|\)|,|`[^`]*`|"(?:[^"\\]|\\.)*"|[A-Za-z]+)/y

function tokenize(rule: string): string[] {
  const tokens: string[] = []
  TOKEN.lastIndex = 0
  while (TOKEN.lastIndex < rule.length) {
    const at = TOKEN.lastIndex
    const match = TOKEN.exec(rule)
    if (!match?.[1]) {
      if (rule.slice(at).trim() === '') break
      throw new LabStateError(`Traefik rule ${JSON.stringify(rule)}: cannot read it at "${rule.slice(at, at + 12)}"`)
    }
    tokens.push(match[1])
  }
  return tokens
}

/** Pure. Parses the matchers the lab's Traefik plays (Host, Path, PathPrefix, Method) with &&, ||, ! and parentheses. */
export function parseRule(rule: string): RuleNode {
  const tokens = tokenize(rule)
  let i = 0
  const fail = (what: string) => new LabStateError(`Traefik rule ${JSON.stringify(rule)}: ${what}`, { hint: 'the lab plays Host, Path, PathPrefix and Method' })
  const expect = (token: string) => {
    if (tokens[i] !== token) throw fail(`expected ${token} at token ${i + 1}, found ${tokens[i] ?? 'the end'}`)
    i++
  }
  const value = () => {
    const token = tokens[i++] ?? ''
    if (token.startsWith('`')) return token.slice(1, -1)
    if (token.startsWith('"')) return JSON.parse(token) as string
    throw fail(`expected a quoted value, found ${token || 'the end'}`)
  }
  const matcher = (): RuleNode => {
    const name = tokens[i++] ?? ''
    if (!MATCHERS.has(name)) throw fail(`matcher ${name || '(none)'} is not one the lab plays`)
    expect('(')
    const values = [value()]
    while (tokens[i] === ',') (i++, values.push(value()))
    expect(')')
    return { op: 'match', matcher: name as 'Host', values }
  }
  const unary = (): RuleNode => {
    if (tokens[i] === '!') return (i++, { op: 'not', inner: unary() })
    if (tokens[i] !== '(') return matcher()
    i++
    const inner = or()
    expect(')')
    return inner
  }
  const and = (): RuleNode => {
    let left = unary()
    while (tokens[i] === '&&') (i++, (left = { op: 'and', left, right: unary() }))
    return left
  }
  const or = (): RuleNode => {
    let left = and()
    while (tokens[i] === '||') (i++, (left = { op: 'or', left, right: and() }))
    return left
  }
  const tree = or()
  if (i !== tokens.length) throw fail(`unexpected ${tokens[i]}`)
  return tree
}

/** Pure. Whether a request matches: hosts case-insensitively and without the port, PathPrefix as a plain prefix. */
export function ruleMatches(node: RuleNode, request: RuleRequest): boolean {
  switch (node.op) {
    case 'and': return ruleMatches(node.left, request) && ruleMatches(node.right, request)
    case 'or': return ruleMatches(node.left, request) || ruleMatches(node.right, request)
    case 'not': return !ruleMatches(node.inner, request)
    case 'match': {
      const host = request.host.toLowerCase().replace(/:\d+$/, '')
      if (node.matcher === 'Host') return node.values.some((v) => v.toLowerCase() === host)
      if (node.matcher === 'Path') return node.values.includes(request.path)
      if (node.matcher === 'PathPrefix') return node.values.some((v) => request.path.startsWith(v))
      return node.values.some((v) => v.toUpperCase() === request.method.toUpperCase())
    }
  }
}
