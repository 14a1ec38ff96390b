import { MANAGED_BY, type KubeClient, type KubeObject } from '@homelab/core'

/**
 * Which records the tool created on each Pi-hole. Pi-hole stores no owner, so this list alone decides what the tool
 * may change or remove: everything else on a Pi-hole belongs to someone else.
 */
export type DnsOwnership = {
  owned(piholeUrl: string): Promise<Set<string>>
  /** Records keys as added to / removed from what this Pi-hole's owner list holds. Updates are applied one at a time. */
  update(piholeUrl: string, change: { add: readonly string[]; remove: readonly string[] }): Promise<void>
}

export type OwnershipLocation = { namespace: string; name: string }

/**
 * A ConfigMap key per Pi-hole, from its host (and port, path): `127.0.4.1`, `pi.hole_8443`. http and https of the same
 * host share it: that is the same Pi-hole.
 */
export function ownershipKey(piholeUrl: string): string {
  const url = new URL(piholeUrl)
  const path = url.pathname.replace(/\/+$/, '')
  return `${url.host}${path}`.replace(/[^-._a-zA-Z0-9]+/g, '_')
}

/** The value for one Pi-hole: its record keys, sorted, one a line, so the same set renders the same text. */
const renderKeys = (keys: Iterable<string>) => [...new Set(keys)].sort().join('\n') + '\n'
const parseKeys = (text: string | undefined) => new Set((text ?? '').split('\n').filter((l) => l.trim() !== ''))

export function configMapOwnership(kube: KubeClient, location: OwnershipLocation): DnsOwnership {
  const ref = { apiVersion: 'v1', kind: 'ConfigMap', namespace: location.namespace, name: location.name }
  const read = async () => ((await kube.get(ref))?.['data'] ?? {}) as Record<string, string>
  // Parallel Pi-hole steps share the one ConfigMap: a queue keeps their read-modify-write cycles apart.
  let queue: Promise<unknown> = Promise.resolve()
  return {
    owned: async (piholeUrl) => parseKeys((await read())[ownershipKey(piholeUrl)]),
    update(piholeUrl, change) {
      if (change.add.length === 0 && change.remove.length === 0) return Promise.resolve()
      const run = queue.then(async () => {
        const data = await read()
        const slot = ownershipKey(piholeUrl)
        const keys = parseKeys(data[slot])
        for (const key of change.remove) keys.delete(key)
        for (const key of change.add) keys.add(key)
        const next = { ...data }
        if (keys.size === 0) delete next[slot]
        else next[slot] = renderKeys(keys)
        await kube.apply(ownershipConfigMap(location, next), { dryRun: false, force: true })
      })
      // The caller gets a failure through `run`; the queue only needs to know it settled.
      queue = run.catch(() => undefined)
      return run
    },
  }
}

function ownershipConfigMap(location: OwnershipLocation, data: Record<string, string>): KubeObject {
  return {
    apiVersion: 'v1',
    kind: 'ConfigMap',
    metadata: {
      name: location.name,
      namespace: location.namespace,
      labels: { ...MANAGED_BY },
      annotations: { 'homelab-devtools/purpose': 'DNS records this tool created on each Pi-hole; only these are ever changed or removed' },
    },
    data: Object.fromEntries(Object.entries(data).sort(([a], [b]) => a.localeCompare(b))),
  }
}
