import { MANAGED_BY, type KubeClient, type KubeObject } from '@homelab/core'

/**
 * Which records the tool created on each Pi-hole. Pi-hole stores no owner, so this list alone decides what the tool
 * may change or remove: everything else on a Pi-hole belongs to someone else.
 */
export type DnsOwnership = {
  read(piholeUrl: string): Promise<OwnershipState>
  /**
   * Record keys added to / removed from this Pi-hole's owner list, and whether CNAME changes there wait for a DNS
   * restart (unchanged when not given). Updates are applied one at a time.
   */
  update(piholeUrl: string, change: OwnershipChange): Promise<void>
}

export type OwnershipState = {
  owned: Set<string>
  /** CNAMEs were written (stored, not served until `restartdns`) and no restart has succeeded since. */
  restartPending: boolean
}

export type OwnershipChange = { add: readonly string[]; remove: readonly string[]; restartPending?: boolean }

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

// Record keys start with `A ` or `CNAME `: this line can never be one.
const RESTART_PENDING = '# restartdns pending: CNAMEs written here are stored but not served until DNS restarts'

/** The value for one Pi-hole: its record keys, sorted, one a line, so the same state renders the same text. */
function renderState(state: OwnershipState): string | undefined {
  const lines = [...[...state.owned].sort(), ...(state.restartPending ? [RESTART_PENDING] : [])]
  return lines.length === 0 ? undefined : `${lines.join('\n')}\n`
}

function parseState(text: string | undefined): OwnershipState {
  const lines = (text ?? '').split('\n').filter((l) => l.trim() !== '')
  return { owned: new Set(lines.filter((l) => !l.startsWith('#'))), restartPending: lines.includes(RESTART_PENDING) }
}

export function configMapOwnership(kube: KubeClient, location: OwnershipLocation): DnsOwnership {
  const ref = { apiVersion: 'v1', kind: 'ConfigMap', namespace: location.namespace, name: location.name }
  const read = async () => ((await kube.get(ref))?.['data'] ?? {}) as Record<string, string>
  // The Pi-hole steps start together and each reads its slot: reads asked for while one is on its way share it.
  let reading: Promise<Record<string, string>> | undefined
  const sharedRead = () => (reading ??= read().finally(() => (reading = undefined)))
  // Parallel Pi-hole steps share the one ConfigMap: a queue keeps their read-modify-write cycles apart (each reads
  // afresh: a read shared with a step that started before another's write would undo that write).
  let queue: Promise<unknown> = Promise.resolve()
  return {
    read: async (piholeUrl) => parseState((await sharedRead())[ownershipKey(piholeUrl)]),
    update(piholeUrl, change) {
      if (change.add.length === 0 && change.remove.length === 0 && change.restartPending === undefined) return Promise.resolve()
      const run = queue.then(async () => {
        const data = await read()
        const slot = ownershipKey(piholeUrl)
        const state = parseState(data[slot])
        for (const key of change.remove) state.owned.delete(key)
        for (const key of change.add) state.owned.add(key)
        const text = renderState({ owned: state.owned, restartPending: change.restartPending ?? state.restartPending })
        if (text === data[slot]) return
        const next = { ...data }
        if (text === undefined) delete next[slot]
        else next[slot] = text
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
