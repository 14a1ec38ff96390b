import { ApplyConflictError, defaultChangeView, type ChangeView, type Step } from '@homelab/core'
import { TrustMaterialNotYetMadeError } from '@homelab/node-trust'

/** One difference between what bootstrap would make and what is there, shown the way bootstrap shows a change. */
export type Drift = ChangeView

/**
 * A bootstrap step turned into a drift report: its check and diff run (under --plan, so server-side dry-runs only),
 * nothing is applied. Another field manager holding fields this tool set is drift too, not a failure: someone
 * changed what bootstrap owns (`kubectl scale`, `kubectl edit`). So are the credentials and CA node-trust reads,
 * while the registry's bootstrap has yet to make them.
 */
export function driftStep(inner: Step<any, any, any>): Step<Drift[], Drift, null> {
  return {
    name: inner.name,
    ...(inner.needs ? { needs: inner.needs } : {}),
    check: async (ctx) => {
      try {
        const current = await inner.check(ctx)
        const changes = inner.diff(current, await inner.desired(ctx)) as unknown[]
        // What bootstrap would fail on is no drift it repairs: a failure, with its fix.
        const refused = inner.refusal?.(changes)
        if (refused) throw refused
        return changes.map((c) => (inner.describe ? inner.describe(c) : defaultChangeView(c)))
      } catch (error) {
        // What the registry's part of a bootstrap makes first (on a fresh cluster, say): drift it repairs, no error.
        if (error instanceof TrustMaterialNotYetMadeError) return [{ summary: `${error.message}: the registry's bootstrap makes it` }]
        if (!(error instanceof ApplyConflictError)) throw error
        return [{ summary: `changed by hand: ${error.message}` }]
      }
    },
    desired: () => null,
    diff: (drift) => drift,
    describe: (d) => d,
  }
}

/** A read-only health probe reported like drift: a problem found is one "change" (what should be true and is not). */
export function healthStep(name: string, probe: () => Promise<string | undefined>, needs?: readonly string[]): Step<Drift[], Drift, null> {
  return {
    name,
    ...(needs ? { needs } : {}),
    check: async () => {
      const problem = await probe()
      return problem === undefined ? [] : [{ summary: problem }]
    },
    desired: () => null,
    diff: (drift) => drift,
    describe: (d) => ({ summary: d.summary }),
  }
}
