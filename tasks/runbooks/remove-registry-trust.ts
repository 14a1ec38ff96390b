import { isMap, isScalar, isSeq, parseDocument, type Document } from 'yaml'
import { RunbookError } from './errors/runbook-error.js'

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

/**
 * Pure. The node's registries.yaml without what node-trust put in: our mirror, our endpoint in the docker.io mirror,
 * and our `configs` entry. Everything else (other mirrors and endpoints, configs, comments) stays. Undefined when
 * nothing else is left, so the file can go (it was ours).
 */
export function removeRegistryTrust(text: string, registryHost: string, where: { host: string; path: string }): string | undefined {
  const doc = parseDocument(text)
  if (doc.errors.length > 0 || (doc.contents !== null && !isMap(doc.contents))) {
    throw new RunbookError(`${where.host}: ${where.path} does not parse as a registries.yaml mapping; left untouched`, { ...where, hint: 'fix or move the file on the node by hand, then run teardown again' })
  }
  doc.deleteIn(['mirrors', registryHost])
  removeOurDockerHubEndpoint(doc, `https://${registryHost}`)
  doc.deleteIn(['configs', registryHost])
  for (const key of ['mirrors', 'configs']) {
    const section = doc.get(key, true)
    if (section === null || (isMap(section) && section.items.length === 0)) doc.delete(key)
  }
  const left = doc.contents
  if (left === null || (isMap(left) && left.items.length === 0)) return undefined
  return doc.toString({ lineWidth: 0 })
}
