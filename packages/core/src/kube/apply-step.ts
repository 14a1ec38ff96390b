import { stringify } from 'yaml'
import { MASK } from '../secret.js'
import { sortKeys } from '../manifests/sort-keys.js'
import { KubeError } from '../errors/kube-error.js'
import { StepSkipped, type Step } from '../step.js'
import { NO_KIND, type KubeClient } from './kube-client.js'
import { describeRef, refOf, type KubeObject } from './kube-object.js'
import type { ObservedObjects } from './observed-objects.js'

export type ApplyChange = { op: 'create' | 'update'; object: KubeObject; before?: KubeObject; after: KubeObject }

/** What the server has now, and what it says the object would become after our apply (server-side dry-run). */
export type ApplySnapshot = { current: KubeObject | undefined; predicted: KubeObject; fieldManager: string }

export type ApplyStepOptions = {
  /** --force-conflicts: take over fields another manager owns. */
  force: boolean
  name?: string
  needs?: readonly string[]
  /** When the API has no such kind (an optional CRD such as ServiceMonitor), skip with this reason instead of failing. */
  skipWhenKindMissing?: string
  /** Where the object read by check() is left for a wait on it later in the run (forgotten when apply() changes it). */
  observed?: ObservedObjects
}

/**
 * Server-side apply of one object. check() asks the server for a dry-run of the apply, so defaults, field ownership
 * and removals are judged by the server itself; an object whose dry-run equals what is stored is `ok` and is not sent.
 */
export function applyStep(kube: KubeClient, written: KubeObject, options: ApplyStepOptions): Step<ApplySnapshot, ApplyChange, KubeObject> {
  const object = withManagedByLabel(written)
  const ref = refOf(object)
  return {
    name: options.name ?? `apply ${describeRef(ref)}`,
    ...(options.needs ? { needs: options.needs } : {}),
    check: async (ctx) => {
      const [current, predicted] = await Promise.all([
        kube.get(ref).catch((e: unknown) => rethrowMissingKind(e, options)),
        kube.apply(object, { dryRun: true, force: options.force }).catch((e: unknown) => {
          // Under --plan the namespace may be one this run would create first: then the object is new as written.
          if (ctx.plan && isMissingNamespace(e)) return object
          return rethrowMissingKind(e, options)
        }),
      ])
      if (current) options.observed?.note(current)
      return { current, predicted, fieldManager: kube.fieldManager }
    },
    desired: () => object,
    diff: (snapshot, desired) => planApply(snapshot, desired),
    apply: async (changes) => {
      options.observed?.forget(ref)
      for (const change of changes) await kube.apply(change.object, { dryRun: false, force: options.force })
    },
    describe: describeApplyChange,
  }
}

export const MANAGED_BY = { 'app.kubernetes.io/managed-by': 'homelab-devtools' } as const

/*
 * Every object carries the managed-by label: teardown finds ours by it, and an object whose only field is its name
 * would otherwise own no fields, which makes a 1.20 API server invent a "before-first-apply" manager on the next apply.
 */
export function withManagedByLabel(object: KubeObject): KubeObject {
  return { ...object, metadata: { ...object.metadata, labels: { ...object.metadata.labels, ...MANAGED_BY } } }
}

/** Pure: nothing to do when the server's dry-run result equals what is stored, ignoring server bookkeeping. */
export function planApply(snapshot: ApplySnapshot, object: KubeObject): ApplyChange[] {
  const { current, predicted, fieldManager } = snapshot
  // A new object is shown as written: the server's defaults would only bury what the user should read.
  if (!current) return [{ op: 'create', object, after: object }]
  if (sameStored(current, predicted, fieldManager)) return []
  return [{ op: 'update', object, before: current, after: predicted }]
}

function sameStored(a: KubeObject, b: KubeObject, fieldManager: string): boolean {
  return JSON.stringify(comparable(a, fieldManager)) === JSON.stringify(comparable(b, fieldManager))
}

/*
 * What our apply can change: everything but status (apply never sets it) and other managers' bookkeeping. A
 * controller writing status between our read and our dry-run (cert-manager issuing, a rollout) is not drift.
 * resourceVersion and timestamps change without anyone changing the object.
 */
function comparable(o: KubeObject, fieldManager: string): unknown {
  const { resourceVersion: _rv, managedFields, ...metadata } = o.metadata
  const { status: _status, ...rest } = o
  const ours = (managedFields ?? []).filter((f) => f.manager === fieldManager).map(({ time: _t, ...entry }) => entry)
  ours.sort((x, y) => `${x.operation}${x.subresource ?? ''}`.localeCompare(`${y.operation}${y.subresource ?? ''}`))
  return sortKeys({ ...rest, metadata: { ...metadata, managedFields: ours } })
}


/** What a person wants to read in a diff: the object as written, with secret values masked. */
function readable(o: KubeObject | undefined): string | undefined {
  if (!o) return undefined
  const { resourceVersion: _rv, managedFields: _mf, uid: _uid, creationTimestamp: _ct, generation: _g, selfLink: _sl, ...metadata } = o.metadata
  const { status: _status, ...rest } = o
  const shown: Record<string, unknown> = { ...rest, metadata }
  if (o.kind === 'Secret') {
    for (const key of ['data', 'stringData'] as const) {
      const data = o[key] as Record<string, string> | undefined
      if (data) shown[key] = Object.fromEntries(Object.keys(data).sort().map((k) => [k, `${MASK} (${digestHint(data[k]!)})`]))
    }
    // Our annotations on a Secret may be derived from its values (the registry's digests of verified htpasswd lines):
    // an old one belongs to no value this run knows, so scrubbing by value would miss it.
    const annotations = metadata.annotations
    if (annotations) {
      shown['metadata'] = {
        ...metadata,
        annotations: Object.fromEntries(Object.entries(annotations).map(([k, v]) => [k, k.startsWith(TOOL_ANNOTATION_PREFIX) ? `${MASK} (${digestHint(v)})` : v])),
      }
    }
  }
  return stringify(sortKeys(shown), { lineWidth: 0 })
}

/*
 * A Secret diff must show that a value changed without showing it. Its length is shown, not a hash: a hash of a short
 * password could be brute-forced from the output.
 */
const digestHint = (value: string) => `${value.length} chars`
const TOOL_ANNOTATION_PREFIX = 'homelab-devtools/'

export function describeApplyChange(change: ApplyChange) {
  const name = describeRef(refOf(change.object))
  const before = readable(change.before)
  const after = readable(change.after)
  if (change.op === 'update' && before === after && change.object.kind === 'Secret') {
    return { summary: `update ${name} (a secret value changed)`, ...(before ? { before } : {}), ...(after ? { after: after + `# values changed\n` } : {}) }
  }
  return { summary: `${change.op} ${name}`, ...(before ? { before } : {}), ...(after ? { after } : {}) }
}

const isMissingNamespace = (e: unknown) => e instanceof KubeError && e.status === 404 && /namespaces? "[^"]+" not found/.test(e.message)

function rethrowMissingKind(error: unknown, options: ApplyStepOptions): never {
  if (options.skipWhenKindMissing && error instanceof KubeError && error.reason === NO_KIND) throw new StepSkipped(options.skipWhenKindMissing)
  throw error
}
