import { isAlias, isMap, isScalar, isSeq, parseDocument, visit, YAMLMap, type Document } from 'yaml'
import { MASK, type Secret } from '@homelab/core'
import { RegistriesYamlError } from './errors/registries-yaml-error.js'
import { registryHostEdited, removeRetiredRegistryHosts } from './retire-registry-hosts.js'

/** What every node must trust: the registry's mirror, its credentials and its CA file. */
export type RegistryTrust = {
  /** `registry.homelab.local`: the mirror key and the endpoint host that `configs` is keyed by. */
  registryHost: string
  username: string
  password: Secret
  /** Where the CA file is on the node. */
  caPath: string
  /**
   * Whether nodes are given the homelab CA (tls.mode ca). In acme mode the registry's certificate chains to public
   * roots containerd already trusts: no ca_file, and the one this tool set in ca mode is taken out again.
   */
  withCa: boolean
  /** Also pull `docker.io` through the registry (a pull-through cache). */
  dockerHubMirror: boolean
  /**
   * Registry hosts node-trust wrote to nodes before and no longer wants (the domain or the host was renamed). Their
   * entries come out where they are still as we wrote them; edited ones stay (see retiredHostsLeft).
   */
  retiredHosts?: readonly string[]
}

export type MergeLimits = { maxBytes: number; maxAliasCount: number }

// A real registries.yaml is a few hundred bytes; anything near a megabyte is not one we should rewrite.
export const DEFAULT_MERGE_LIMITS: MergeLimits = { maxBytes: 1024 * 1024, maxAliasCount: 100 }

type Where = { host: string; path: string }

function parseExisting(text: string, where: Where, limits: MergeLimits): Document {
  const size = Buffer.byteLength(text)
  if (size > limits.maxBytes) {
    throw new RegistriesYamlError(`${where.host}: ${where.path} is ${size} bytes, over the ${limits.maxBytes}-byte limit; left untouched`, { ...where, hint: 'look at the file on the node: a registries.yaml is normally a few hundred bytes' })
  }
  const doc = parseDocument(text, { prettyErrors: true })
  const error = doc.errors[0]
  if (error) {
    const [line, column] = [error.linePos?.[0].line, error.linePos?.[0].col]
    const at = line === undefined ? '' : ` at line ${line}, column ${column}`
    throw new RegistriesYamlError(`${where.host}: ${where.path} does not parse${at}: ${error.message.split('\n')[0]?.replace(/ at line \d+, column \d+:?$/, '')}; left untouched`, {
      ...where, line, column, hint: `fix the file on the node (or move it away), then run sync again`,
    })
  }
  try {
    // Aliases are only expanded by toJS: this is where a "billion laughs" file would blow up, so check it here.
    doc.toJS({ maxAliasCount: limits.maxAliasCount })
  } catch (cause) {
    throw new RegistriesYamlError(`${where.host}: ${where.path} expands too many aliases (limit ${limits.maxAliasCount}); left untouched`, { ...where, cause, hint: 'replace the aliases with plain values' })
  }
  if (doc.contents !== null && !isMap(doc.contents)) {
    throw new RegistriesYamlError(`${where.host}: ${where.path} is not a mapping at the top; left untouched`, { ...where, hint: 'registries.yaml must hold `mirrors:` and `configs:` keys' })
  }
  return doc
}

/** Sets `path` only when its value differs, so a node's own formatting of an already-right value survives. */
function setIfDifferent(doc: Document, path: readonly string[], value: unknown, flow = false): void {
  const current = doc.getIn(path, true) as { toJSON?: () => unknown } | undefined
  const currentJs = current && typeof current === 'object' && 'toJSON' in current ? (current as { toJSON: () => unknown }).toJSON() : (doc.getIn(path) as unknown)
  if (JSON.stringify(currentJs) === JSON.stringify(value)) return
  const node = doc.createNode(value, { flow })
  doc.setIn(path, node)
}

/** A key we must write into: replace it with an empty map when it holds a scalar or null (`mirrors:` alone). */
function ensureMap(doc: Document, path: readonly string[]): void {
  if (!isMap(doc.getIn(path, true))) doc.setIn(path, new YAMLMap())
}

/**
 * docker.io is everyone's mirror: ours goes first (containerd tries endpoints in order, then docker.io itself), the
 * node's own endpoints stay after it, and teardown takes out only ours.
 */
function oursFirst(current: unknown, endpoint: string): unknown[] {
  const existing = isSeq(current) ? (current.toJSON() as unknown[]) : []
  return [endpoint, ...existing.filter((e) => e !== endpoint)]
}

/**
 * Pure. The node's registries.yaml with our mirror, auth and CA set and the retired hosts' entries taken out where they
 * are still ours, everything else kept (other mirrors, configs, comments, key order). Throws RegistriesYamlError, naming line and column, when the file must not be touched.
 */
export function mergeRegistriesYaml(current: string | undefined, trust: RegistryTrust, where: Where, limits: MergeLimits = DEFAULT_MERGE_LIMITS): string {
  const doc = parseExisting(current ?? '', where, limits)
  if (doc.contents === null) doc.contents = new YAMLMap() as never
  // First, so that a docker.io mirror left holding only the old endpoint gets ours put first like any other.
  removeRetiredRegistryHosts(doc, retiredOf(trust))
  const endpoint = `https://${trust.registryHost}`
  for (const key of ['mirrors', 'configs']) ensureMap(doc, [key])
  ensureMap(doc, ['mirrors', trust.registryHost])
  setIfDifferent(doc, ['mirrors', trust.registryHost, 'endpoint'], [endpoint], true)
  if (trust.dockerHubMirror) {
    ensureMap(doc, ['mirrors', 'docker.io'])
    setIfDifferent(doc, ['mirrors', 'docker.io', 'endpoint'], oursFirst(doc.getIn(['mirrors', 'docker.io', 'endpoint'], true), endpoint), true)
  }
  // configs are keyed by the endpoint's host, not the mirror name (K3s docs, rancher/wharfie).
  ensureMap(doc, ['configs', trust.registryHost])
  ensureMap(doc, ['configs', trust.registryHost, 'auth'])
  setIfDifferent(doc, ['configs', trust.registryHost, 'auth', 'username'], trust.username)
  setIfDifferent(doc, ['configs', trust.registryHost, 'auth', 'password'], trust.password.reveal())
  const tls = ['configs', trust.registryHost, 'tls']
  if (trust.withCa) {
    ensureMap(doc, tls)
    setIfDifferent(doc, [...tls, 'ca_file'], trust.caPath)
  } else if (doc.getIn([...tls, 'ca_file']) === trust.caPath) {
    doc.deleteIn([...tls, 'ca_file'])
    const left = doc.getIn(tls, true)
    if (isMap(left) && left.items.length === 0) doc.deleteIn(tls)
  }
  return doc.toString({ lineWidth: 0 })
}

const retiredOf = (trust: RegistryTrust) => ({ hosts: (trust.retiredHosts ?? []).filter((h) => h !== trust.registryHost), caPath: trust.caPath })

/**
 * Pure. The retired hosts whose entries the merge leaves on this node because someone edited them: they still hold a
 * login this tool wrote, so the caller names them. Throws RegistriesYamlError as the merge does.
 */
export function retiredHostsLeft(current: string | undefined, trust: RegistryTrust, where: Where, limits: MergeLimits = DEFAULT_MERGE_LIMITS): string[] {
  const { hosts, caPath } = retiredOf(trust)
  if (hosts.length === 0) return []
  const root: unknown = parseExisting(current ?? '', where, limits).toJS({ maxAliasCount: limits.maxAliasCount })
  return hosts.filter((host) => registryHostEdited(root, host, caPath))
}

const CREDENTIAL_KEYS = new Set(['password', 'auth', 'identity_token', 'token'])

/**
 * Pure. The file with every credential under `configs.*.auth` masked, for diffs: a node's old password is not a
 * Secret this process knows, so the reporter's scrubbing would not catch it. Unparseable text is masked line-wise.
 */
export function maskRegistryCredentials(text: string | undefined): string | undefined {
  if (text === undefined) return undefined
  const doc = parseDocument(text)
  if (doc.errors.length > 0 || !isMap(doc.contents)) return text.replace(/^(\s*(?:password|auth|identity_token|token)\s*:\s*).+$/gm, `$1${MASK}`)
  // Every credential key anywhere, not only under configs.*.auth: an `auth: *creds` alias puts the password in an
  // anchor elsewhere in the file (`x-creds: &creds {password: …}`), and `password: *p` in an anchored scalar.
  visit(doc, {
    Pair(_, pair) {
      const key = isScalar(pair.key) ? String(pair.key.value) : String(pair.key)
      if (!CREDENTIAL_KEYS.has(key)) return
      const target = isAlias(pair.value) ? pair.value.resolve(doc) : pair.value
      if (isScalar(target)) target.value = MASK
    },
  })
  return doc.toString({ lineWidth: 0 })
}
