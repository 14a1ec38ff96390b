import type { KubeRestClient } from './kube-rest-client.js'
import type { Condition } from './kube-objects.js'

const TIME_KEYS = new Set(['lastTransitionTime', 'lastUpdateTime', 'lastProbeTime'])

/**
 * Pure. Stable JSON for comparing statuses: sorted keys, no undefined, no zero counts (the API server omits them),
 * and no condition timestamps (they only move when the condition does).
 */
export function comparableStatus(value: unknown): string {
  const walk = (v: unknown): unknown => {
    if (Array.isArray(v)) return v.map(walk)
    if (v === null || typeof v !== 'object') return v
    const entries = Object.entries(v as Record<string, unknown>)
      .filter(([key, inner]) => inner !== undefined && inner !== 0 && !TIME_KEYS.has(key))
      .sort(([a], [b]) => a.localeCompare(b))
    return Object.fromEntries(entries.map(([key, inner]) => [key, walk(inner)]))
  }
  return JSON.stringify(walk(value ?? {}))
}

/** Pure. `desired` with each condition's timestamps kept from `current` when its status did not change. */
export function carryTransitionTimes(current: Condition[] | undefined, desired: Condition[], now: string): Condition[] {
  return desired.map((condition) => {
    const before = current?.find((c) => c.type === condition.type)
    const unchanged = before !== undefined && before.status === condition.status
    const since = unchanged ? before.lastTransitionTime ?? now : now
    return { ...condition, lastTransitionTime: since }
  })
}

/**
 * Writes `desired` through the status subresource only when it differs from `current`: a controller that rewrote
 * statuses every pass would move resourceVersions, and the tool's second run must see nothing move.
 */
export async function patchStatusIfChanged(client: KubeRestClient, path: string, current: unknown, desired: Record<string, unknown>): Promise<boolean> {
  if (comparableStatus(current) === comparableStatus(desired)) return false
  // Merge patch keeps keys it does not name: `null` removes the ones `desired` no longer has.
  const stale = Object.keys((current ?? {}) as Record<string, unknown>).filter((key) => !(key in desired))
  await client.mergePatch(`${path}/status`, { status: { ...Object.fromEntries(stale.map((key) => [key, null])), ...desired } })
  return true
}
