import { isMap, isScalar, isSeq, type Document } from 'yaml'

/** Registry hosts node-trust wrote to nodes earlier and no longer wants there, and the CA path it wrote with them. */
export type RetiredHosts = { hosts: readonly string[]; caPath: string }

const isPlainMap = (value: unknown): value is Record<string, unknown> => typeof value === 'object' && value !== null && !Array.isArray(value)
const onlyKeys = (value: Record<string, unknown>, allowed: readonly string[]) => Object.keys(value).every((k) => allowed.includes(k))

/** `mirrors.<host>` exactly as node-trust writes it: one endpoint, itself, and nothing else. */
function mirrorIsOurs(mirror: unknown, host: string): boolean {
  if (!isPlainMap(mirror) || !onlyKeys(mirror, ['endpoint'])) return false
  const endpoint = mirror['endpoint']
  return Array.isArray(endpoint) && endpoint.length === 1 && endpoint[0] === `https://${host}`
}

/** `configs.<host>` holding only what node-trust writes: the login, and the CA file at our path (or none, tls.mode acme). */
function configIsOurs(config: unknown, caPath: string): boolean {
  if (!isPlainMap(config) || !onlyKeys(config, ['auth', 'tls'])) return false
  const { auth, tls } = config
  if (auth !== undefined && !(isPlainMap(auth) && onlyKeys(auth, ['username', 'password']))) return false
  return tls === undefined || (isPlainMap(tls) && onlyKeys(tls, ['ca_file']) && (tls['ca_file'] === undefined || tls['ca_file'] === caPath))
}

/**
 * Pure. Whether someone changed a host's entries since node-trust wrote them (another endpoint, a rewrite, a client
 * certificate, another CA): then they are someone's now, not ours to take out. No entries at all is not edited.
 */
export function registryHostEdited(root: unknown, host: string, caPath: string): boolean {
  const section = (key: string) => (isPlainMap(root) && isPlainMap(root[key]) ? root[key] : {})
  const mirrors = section('mirrors')
  const configs = section('configs')
  if (host in mirrors && !mirrorIsOurs(mirrors[host], host)) return true
  return host in configs && !configIsOurs(configs[host], caPath)
}

/**
 * docker.io's endpoints are shared: node-trust put ours first and kept the node's own. Only ours comes out; the
 * endpoint key goes when it held nothing else, the docker.io entry when nothing else (a `rewrite`, say) is left in it.
 */
function removeOurDockerHubEndpoint(doc: Document, endpoint: string): void {
  const path = ['mirrors', 'docker.io']
  const endpoints = doc.getIn([...path, 'endpoint'], true)
  if (!isSeq(endpoints)) return
  const index = endpoints.items.findIndex((item) => (isScalar(item) ? item.value : item) === endpoint)
  if (index === -1) return
  endpoints.items.splice(index, 1)
  if (endpoints.items.length === 0) doc.deleteIn([...path, 'endpoint'])
  const entry = doc.getIn(path, true)
  if (isMap(entry) && entry.items.length === 0) doc.deleteIn(path)
}

/** Takes out of `doc` what node-trust writes for one host: its mirror, its endpoint in docker.io's mirror, its `configs` entry. */
export function removeRegistryHostEntries(doc: Document, host: string): void {
  // yaml's deleteIn throws where a section is missing, null or not a map (no file, a comment-only one, `mirrors:` alone).
  if (!isMap(doc.contents)) return
  if (isMap(doc.get('mirrors', true))) {
    doc.deleteIn(['mirrors', host])
    removeOurDockerHubEndpoint(doc, `https://${host}`)
  }
  if (isMap(doc.get('configs', true))) doc.deleteIn(['configs', host])
}

/**
 * Takes the retired hosts' entries out of `doc` where they are still as node-trust wrote them. Returns the hosts whose
 * entries were edited and so stay, for the caller to warn about: their credentials are still on the node.
 */
export function removeRetiredRegistryHosts(doc: Document, retired: RetiredHosts): string[] {
  if (retired.hosts.length === 0) return []
  const root: unknown = doc.toJS()
  const edited = retired.hosts.filter((host) => registryHostEdited(root, host, retired.caPath))
  for (const host of retired.hosts) if (!edited.includes(host)) removeRegistryHostEntries(doc, host)
  return edited
}
