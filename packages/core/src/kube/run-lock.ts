import { hostname } from 'node:os'
import { HomelabError } from '../errors/homelab-error.js'
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

export type RunLock = { release(): Promise<void> }

/** Another run holds the lock: says who, since when, and when it expires if that run died. */
export class RunLockedError extends HomelabError {}

const DEFAULT_TTL_MS = 120_000

/*
 * A ConfigMap rather than a Lease: its data are plain strings, and a Lease's MicroTime fields do not survive
 * client-node's serialiser on a 1.20 server. The guarantee is the same: create is atomic, and a takeover of an expired
 * lock is a replace guarded by resourceVersion, so two runs can never both win.
 */
export async function acquireRunLock(kube: KubeClient, options: RunLockOptions): Promise<RunLock> {
  const now = options.now ?? (() => new Date())
  const ttl = options.ttlMs ?? DEFAULT_TTL_MS
  const name = `run-lock-${options.name}`
  const holder = `${options.task} on ${hostname()} (pid ${process.pid})`
  const body = (resourceVersion?: string): KubeObject => ({
    apiVersion: 'v1',
    kind: 'ConfigMap',
    metadata: { name, namespace: options.namespace, labels: { 'app.kubernetes.io/managed-by': 'homelab-devtools' }, ...(resourceVersion ? { resourceVersion } : {}) },
    data: { holder, acquiredAt: now().toISOString(), expiresAt: new Date(now().getTime() + ttl).toISOString() },
  })
  let mine: KubeObject
  try {
    mine = await createInNamespace(kube, body())
  } catch (error) {
    if (!(error instanceof KubeError) || error.reason !== 'AlreadyExists') throw error
    mine = await takeOverExpired(kube, { name, namespace: options.namespace, now: now(), replacement: body })
  }
  const renew = setInterval(() => {
    kube.replace(body(mine.metadata.resourceVersion)).then((o) => (mine = o), () => undefined)
  }, Math.max(1000, ttl / 3))
  renew.unref()
  return {
    release: async () => {
      clearInterval(renew)
      const current = await kube.get({ apiVersion: 'v1', kind: 'ConfigMap', name, namespace: options.namespace })
      if ((current?.['data'] as Record<string, string> | undefined)?.['holder'] === holder) await kube.delete({ apiVersion: 'v1', kind: 'ConfigMap', name, namespace: options.namespace })
    },
  }
}

/** The tool's namespace may not exist on a first run: make it (an apply, a no-op when it exists) and try again. */
async function createInNamespace(kube: KubeClient, object: KubeObject): Promise<KubeObject> {
  try {
    return await kube.create(object)
  } catch (error) {
    if (!(error instanceof KubeError) || error.status !== 404) throw error
    const namespace = { apiVersion: 'v1', kind: 'Namespace', metadata: { name: object.metadata.namespace!, labels: { 'app.kubernetes.io/managed-by': 'homelab-devtools' } } }
    await kube.apply(namespace, { dryRun: false, force: false })
    return kube.create(object)
  }
}

async function takeOverExpired(
  kube: KubeClient,
  lock: { name: string; namespace: string; now: Date; replacement: (resourceVersion?: string) => KubeObject },
): Promise<KubeObject> {
  const held = await kube.get({ apiVersion: 'v1', kind: 'ConfigMap', name: lock.name, namespace: lock.namespace })
  const data = (held?.['data'] ?? {}) as Record<string, string>
  const expires = Date.parse(data['expiresAt'] ?? '')
  if (held && !(expires < lock.now.getTime())) {
    throw new RunLockedError(`another run holds ${lock.namespace}/${lock.name}: ${data['holder'] ?? 'unknown'} since ${data['acquiredAt'] ?? '?'}`, {
      hint: `wait for it to finish; if it died, the lock expires at ${data['expiresAt'] ?? '?'} (or delete ConfigMap ${lock.namespace}/${lock.name})`,
    })
  }
  try {
    return held ? await kube.replace(lock.replacement(held.metadata.resourceVersion)) : await kube.create(lock.replacement())
  } catch (error) {
    if (error instanceof KubeError && (error.reason === 'Conflict' || error.reason === 'AlreadyExists')) {
      throw new RunLockedError(`another run took ${lock.namespace}/${lock.name} at the same moment`, { hint: 'wait for it to finish', cause: error })
    }
    throw error
  }
}
