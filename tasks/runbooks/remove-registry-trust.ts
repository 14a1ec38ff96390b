import { isMap, parseDocument } from 'yaml'
import { removeRegistryHostEntries, removeRetiredRegistryHosts, type RetiredHosts } from '@homelab/node-trust'
import { RunbookError } from './errors/runbook-error.js'

/**
 * Pure. The node's registries.yaml without what node-trust put in: our mirror, our endpoint in the docker.io mirror,
 * and our `configs` entry, for the registry host and for every host node-trust recorded writing earlier (`earlier`,
 * taken out only where still as node-trust wrote them: an edited entry is someone's now). Everything else (other
 * mirrors and endpoints, configs, comments) stays. Undefined when nothing else is left, so the file can go (it was ours).
 */
export function removeRegistryTrust(text: string, registryHost: string, where: { host: string; path: string }, earlier: RetiredHosts = { hosts: [], caPath: '' }): string | undefined {
  const doc = parseDocument(text)
  if (doc.errors.length > 0 || (doc.contents !== null && !isMap(doc.contents))) {
    throw new RunbookError(`${where.host}: ${where.path} does not parse as a registries.yaml mapping; left untouched`, { ...where, hint: 'fix or move the file on the node by hand, then run teardown again' })
  }
  removeRegistryHostEntries(doc, registryHost)
  removeRetiredRegistryHosts(doc, { ...earlier, hosts: earlier.hosts.filter((h) => h !== registryHost) })
  for (const key of ['mirrors', 'configs']) {
    const section = doc.get(key, true)
    if (section === null || (isMap(section) && section.items.length === 0)) doc.delete(key)
  }
  const left = doc.contents
  if (left === null || (isMap(left) && left.items.length === 0)) return undefined
  return doc.toString({ lineWidth: 0 })
}
