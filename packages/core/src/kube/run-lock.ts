import { hostname } from 'node:os'
import { HomelabError, type ErrorContext } from '../errors/homelab-error.js'
import { KubeError } from '../errors/kube-error.js'
import type { KubeClient } from './kube-client.js'
import type { KubeObject } from './kube-object.js'

export type RunLockOptions = {
  namespace: string
  /** What is locked: one lock per component, so dns and localstack can converge side by side. */
  name: string
  /** Who holds it, for the message the second run prints. */
  task: string
  ttlMs?: number
  now?: () => Date
}

export type RunLock = {
  /** Who holds it: the task, host and pid, as a refused run's message names it. */
  readonly holder: string
  release(): Promise<void>
  /**
   * Whether this run still holds it, read from the API server: ours and not expired. For the last moment before a step
   * that is safe only under the lock (gc's sweep): renewals happen in the background and may have failed for a while.
   */
  stillHeld(): Promise<boolean>
}

/** The lock of a whole `pnpm turbo bootstrap`. */
export const PIPELINE_LOCK = 'pipeline'

/**
 * Set by a pipeline that holds its lock, for the tasks it runs (in its process or as turbo's): their components take
 * no locks of their own. The value is the pipeline lock's holder.
 */
export const UNDER_PIPELINE_LOCK_ENV = 'HOMELAB_UNDER_PIPELINE_LOCK'

/** Another run holds the lock: says who, since when, and when it expires if that run died. */
export class RunLockedError extends HomelabError {
  constructor(
    message: string,
    /** The lock held: `namespace/run-lock-<name>`. */
    readonly lock: string,
    context: ErrorContext,
  ) {
    super(message, context)
  }
}

const DEFAULT_TTL_MS = 120_000

/*
 * A ConfigMap rather than a Lease: its data are plain strings, and a Lease's MicroTime fields do not survive
 * client-node's serialiser on a 1.20 server. The guarantee is the same: create is atomic, and a takeover of an expired
 * lock is a replace guarded by resourceVersion, so two runs can never both win.
 *
 * A pipeline takes one lock for all its components, which take none (UNDER_PIPELINE_LOCK_ENV), and every other run
 * (a component on its own, registry gc) takes its component's. Each writes its own lock and then reads the other
 * kind: the pipeline every component lock, a component the pipeline's. Reads after writes on one API server, so of
 * two runs that overlap at least one sees the other and stops (both may, and are then simply run again).
 */
export async function acquireRunLock(kube: KubeClient, options: RunLockOptions): Promise<RunLock> {
  const now = options.now ?? (() => new Date())
  const ttl = options.ttlMs ?? DEFAULT_TTL_MS
  const name = lockName(options.name)
  const holder = `${options.task} on ${hostname()} (pid ${process.pid})`
  const body = (resourceVersion?: string): KubeObject => ({
    apiVersion: 'v1',
    kind: 'ConfigMap',
    metadata: { name, namespace: options.namespace, labels: { [MANAGED_BY]: 'homelab-devtools' }, ...(resourceVersion ? { resourceVersion } : {}) },
    data: { holder, acquiredAt: now().toISOString(), expiresAt: new Date(now().getTime() + ttl).toISOString() },
  })
  let mine: KubeObject
  try {
    mine = await createInNamespace(kube, body())
  } catch (error) {
    if (!(error instanceof KubeError) || error.reason !== 'AlreadyExists') throw error
    mine = await takeOverExpired(kube, { name, namespace: options.namespace, now: now(), replacement: body })
  }
  const ref = { apiVersion: 'v1', kind: 'ConfigMap', name, namespace: options.namespace }
  const renewOnce = async () => {
    try {
      mine = await kube.replace(body(mine.metadata.resourceVersion))
    } catch {
      // A renewal whose answer was lost (a timeout) went through all the same and left `mine` a version behind: every
      // later renewal would fail on the version and the lock lapse under a run still going. Read it back and, while it
      // is still ours, renew on the version it has. Anything else waits for the next tick; stillHeld() tells.
      try {
        const current = await kube.get(ref)
        if (current && lockData(current)['holder'] === holder) mine = await kube.replace(body(current.metadata.resourceVersion))
      } catch {
        // the next tick tries again
      }
    }
  }
  const renew = setInterval(() => void renewOnce(), Math.max(1000, ttl / 3))
  renew.unref()
  const lock: RunLock = {
    holder,
    release: async () => {
      clearInterval(renew)
      const current = await kube.get(ref)
      if (!current || lockData(current)['holder'] !== holder) return
      // Only the version read here: a run that took the lock over in between (ours had expired) keeps its own.
      await kube.delete(ref, { resourceVersion: current.metadata.resourceVersion! }).catch((error: unknown) => {
        if (!(error instanceof KubeError && error.reason === 'Conflict')) throw error
      })
    },
    stillHeld: async () => {
      const current = await kube.get(ref)
      return current !== undefined && lockData(current)['holder'] === holder && isLive(lockData(current), now())
    },
  }
  try {
    await refuseOtherKind(kube, { namespace: options.namespace, pipeline: options.name === PIPELINE_LOCK, now: now() })
  } catch (error) {
    await lock.release().catch(() => undefined)
    throw error
  }
  return lock
}

/** A run lock someone holds now: its ConfigMap's name, who holds it, and until when (unless renewed). */
export type HeldRunLock = { name: string; holder: string; expiresAt: string }

/** The run locks in the tool's namespace that are held now (expired ones are dead runs' and left out). */
export async function heldRunLocks(kube: KubeClient, namespace: string, now = new Date()): Promise<HeldRunLock[]> {
  const configMaps = await kube.list('v1', 'ConfigMap', { namespace, labelSelector: `${MANAGED_BY}=homelab-devtools` })
  return configMaps.flatMap((c) => {
    const data = lockData(c)
    const live = c.metadata.name.startsWith('run-lock-') && data['holder'] && isLive(data, now)
    return live ? [{ name: c.metadata.name, holder: data['holder']!, expiresAt: data['expiresAt']! }] : []
  })
}

const MANAGED_BY = 'app.kubernetes.io/managed-by'
const lockName = (name: string) => `run-lock-${name}`

/** The pipeline refuses while any component lock is held; a component while the pipeline's is. Expired ones are dead runs'. */
async function refuseOtherKind(kube: KubeClient, options: { namespace: string; pipeline: boolean; now: Date }): Promise<void> {
  const pipelineLock = lockName(PIPELINE_LOCK)
  const held = options.pipeline
    ? (await kube.list('v1', 'ConfigMap', { namespace: options.namespace, labelSelector: `${MANAGED_BY}=homelab-devtools` })).filter((o) => o.metadata.name.startsWith('run-lock-') && o.metadata.name !== pipelineLock)
    : [await kube.get({ apiVersion: 'v1', kind: 'ConfigMap', name: pipelineLock, namespace: options.namespace })].filter((o): o is KubeObject => o !== undefined)
  const live = held.find((o) => isLive(lockData(o), options.now))
  if (live) throw heldError(options.namespace, live.metadata.name, lockData(live))
}

const lockData = (lock: KubeObject) => (lock['data'] ?? {}) as Record<string, string>
/** Not past its expiry (one without a readable expiry counts as held: say so rather than take it). */
const isLive = (data: Record<string, string>, now: Date) => !(Date.parse(data['expiresAt'] ?? '') < now.getTime())

function heldError(namespace: string, name: string, data: Record<string, string>): RunLockedError {
  return new RunLockedError(`another run holds ${namespace}/${name}: ${data['holder'] ?? 'unknown'} since ${data['acquiredAt'] ?? '?'}`, `${namespace}/${name}`, {
    hint: `wait for it to finish; if it died, the lock expires at ${data['expiresAt'] ?? '?'} (or delete ConfigMap ${namespace}/${name})`,
  })
}

/** The tool's namespace may not exist on a first run: make it (an apply, a no-op when it exists) and try again. */
async function createInNamespace(kube: KubeClient, object: KubeObject): Promise<KubeObject> {
  try {
    return await kube.create(object)
  } catch (error) {
    if (!(error instanceof KubeError) || error.status !== 404) throw error
    const namespace = { apiVersion: 'v1', kind: 'Namespace', metadata: { name: object.metadata.namespace!, labels: { [MANAGED_BY]: 'homelab-devtools' } } }
    await kube.apply(namespace, { dryRun: false, force: false })
    return kube.create(object)
  }
}

async function takeOverExpired(
  kube: KubeClient,
  lock: { name: string; namespace: string; now: Date; replacement: (resourceVersion?: string) => KubeObject },
): Promise<KubeObject> {
  const held = await kube.get({ apiVersion: 'v1', kind: 'ConfigMap', name: lock.name, namespace: lock.namespace })
  const data = held ? lockData(held) : {}
  if (held && isLive(data, lock.now)) throw heldError(lock.namespace, lock.name, data)
  try {
    return held ? await kube.replace(lock.replacement(held.metadata.resourceVersion)) : await kube.create(lock.replacement())
  } catch (error) {
    if (error instanceof KubeError && (error.reason === 'Conflict' || error.reason === 'AlreadyExists')) {
      throw new RunLockedError(`another run took ${lock.namespace}/${lock.name} at the same moment`, `${lock.namespace}/${lock.name}`, { hint: 'wait for it to finish', cause: error })
    }
    throw error
  }
}
