import { withManagedByLabel, type ChangeView, type KubeClient, type KubeObject, type Step } from '@homelab/core'

/**
 * Which registry hosts node-trust has written to nodes. A renamed registry (a new `domain`) leaves the old host's
 * entries, with their plaintext login, on every node: only this list says they are ours to take out again.
 */
export const REGISTRY_HOSTS_CONFIGMAP = 'node-trust-hosts'
const KEY = 'hosts'

export const RECORD_HOST_STEP = 'node-trust: record the registry host'
export const FORGET_HOSTS_STEP = 'node-trust: forget retired registry hosts'

export type HostRecordChange = { op: 'record'; before: readonly string[] | undefined; after: readonly string[] }

const refOf = (namespace: string) => ({ apiVersion: 'v1', kind: 'ConfigMap', namespace, name: REGISTRY_HOSTS_CONFIGMAP })

/** The recorded hosts; undefined when there is no record (an install from before it existed: only the current host is ours). */
export async function readRegistryHostRecord(kube: KubeClient, namespace: string): Promise<string[] | undefined> {
  const object = await kube.get(refOf(namespace))
  if (object === undefined) return undefined
  const text = (object['data'] as Record<string, string> | undefined)?.[KEY] ?? ''
  return text.split('\n').map((l) => l.trim()).filter((l) => l !== '')
}

/** Pure. Hosts recorded as written before that the config no longer wants. */
export const retiredRegistryHosts = (recorded: readonly string[] | undefined, wanted: string): string[] => (recorded ?? []).filter((h) => h !== wanted)

/** Pure. The record with `add` in and `drop` out; nothing when that is what is stored, so a no-op run writes nothing. */
export function planRegistryHostRecord(recorded: readonly string[] | undefined, change: { add: readonly string[]; drop: readonly string[] }): HostRecordChange[] {
  const after = [...new Set([...(recorded ?? []), ...change.add])].filter((h) => !change.drop.includes(h)).sort()
  const same = recorded !== undefined && recorded.length === after.length && [...recorded].sort().every((h, i) => h === after[i])
  return same ? [] : [{ op: 'record', before: recorded, after }]
}

function recordObject(namespace: string, hosts: readonly string[]): KubeObject {
  return withManagedByLabel({
    ...refOf(namespace),
    metadata: {
      name: REGISTRY_HOSTS_CONFIGMAP,
      namespace,
      annotations: { 'homelab-devtools/purpose': 'registry hosts node-trust wrote to the nodes\' registries.yaml; an old one is listed until every node is cleaned of it' },
    },
    // One a line, sorted: the same hosts always render the same text.
    data: { [KEY]: hosts.map((h) => `${h}\n`).join('') },
  })
}

const lines = (hosts: readonly string[] | undefined) => (hosts === undefined ? undefined : hosts.map((h) => `${h}\n`).join(''))

function describeRecord(change: HostRecordChange, namespace: string): ChangeView {
  const verb = change.before === undefined ? 'create' : 'update'
  const before = lines(change.before)
  return { summary: `${verb} ConfigMap ${namespace}/${REGISTRY_HOSTS_CONFIGMAP} (registry hosts node-trust has written to nodes)`, ...(before === undefined ? {} : { before }), after: lines(change.after) ?? '' }
}

type ForgetState = { stored: string[] | undefined; drop: readonly string[] }

type RecordDeps = { kube: () => KubeClient; namespace: string; host: string }

const write = (deps: RecordDeps) => async (changes: HostRecordChange[]) => {
  // Our own state object: no other manager has a say in it, so conflicts are taken over.
  for (const c of changes) await deps.kube().apply(recordObject(deps.namespace, c.after), { dryRun: false, force: true })
}

/** Before any node is written: the host we are about to write is recorded, so even an interrupted run knows it is ours. */
export function recordRegistryHostStep(deps: RecordDeps & { recorded: () => Promise<string[] | undefined>; needs: readonly string[] }): Step<string[] | undefined, HostRecordChange, null> {
  return {
    name: RECORD_HOST_STEP,
    // Only once there is something to write: a host no node was ever given must not become "ours".
    needs: deps.needs,
    check: () => deps.recorded(),
    desired: () => null,
    diff: (recorded) => planRegistryHostRecord(recorded, { add: [deps.host], drop: [] }),
    describe: (c) => describeRecord(c, deps.namespace),
    apply: write(deps),
  }
}

/**
 * After every node: retired hosts no node has entries for any more leave the record. It needs every node step, so a
 * node that failed or was not reached keeps them listed, and the next run cleans it.
 */
export function forgetRetiredHostsStep(deps: RecordDeps & { needs: readonly string[]; retired: () => Promise<readonly string[]>; leftOnNodes: () => Promise<ReadonlySet<string>> }): Step<ForgetState, HostRecordChange, null> {
  return {
    name: FORGET_HOSTS_STEP,
    needs: deps.needs,
    check: async () => {
      const left = await deps.leftOnNodes()
      const drop = (await deps.retired()).filter((h) => !left.has(h))
      return { stored: drop.length === 0 ? undefined : await readRegistryHostRecord(deps.kube(), deps.namespace), drop }
    },
    desired: () => null,
    diff: ({ stored, drop }) => {
      if (drop.length === 0) return []
      // The record as the record step left it: under --plan it wrote nothing, so the wanted host is added here too.
      const recorded = [...new Set([...(stored ?? []), deps.host])].sort()
      return planRegistryHostRecord(recorded, { add: [], drop })
    },
    describe: (c) => describeRecord(c, deps.namespace),
    apply: write(deps),
  }
}
