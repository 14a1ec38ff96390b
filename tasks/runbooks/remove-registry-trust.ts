import { isMap, parseDocument } from 'yaml'
import { RunbookError } from './errors/runbook-error.js'

/**
 * Pure. The node's registries.yaml without what node-trust put in: our mirror, a docker.io mirror only when it points
 * at our registry alone, and our `configs` entry. Everything else (other mirrors, configs, comments) stays. Undefined
 * when nothing else is left, so the file can go (it was ours).
 */
export function removeRegistryTrust(text: string, registryHost: string, where: { host: string; path: string }): string | undefined {
  const doc = parseDocument(text)
  if (doc.errors.length > 0 || (doc.contents !== null && !isMap(doc.contents))) {
    throw new RunbookError(`${where.host}: ${where.path} does not parse as a registries.yaml mapping; left untouched`, { ...where, hint: 'fix or move the file on the node by hand, then run teardown again' })
  }
  const ours = JSON.stringify([`https://${registryHost}`])
  doc.deleteIn(['mirrors', registryHost])
  if (JSON.stringify(doc.getIn(['mirrors', 'docker.io', 'endpoint'])) === ours) doc.deleteIn(['mirrors', 'docker.io'])
  doc.deleteIn(['configs', registryHost])
  for (const key of ['mirrors', 'configs']) {
    const section = doc.get(key, true)
    if (section === null || (isMap(section) && section.items.length === 0)) doc.delete(key)
  }
  const left = doc.contents
  if (left === null || (isMap(left) && left.items.length === 0)) return undefined
  return doc.toString({ lineWidth: 0 })
}
