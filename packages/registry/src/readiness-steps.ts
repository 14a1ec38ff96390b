import { describeRef, StepSkipped, waitFor, type Duration, type KubeClient, type KubeObject, type ObjectRef, type ObservedObjects, type Step } from '@homelab/core'

export type Readiness = { done: boolean; seen: string }

type Condition = { type?: string; status?: string; reason?: string; message?: string; observedGeneration?: number }

const conditionsOf = (object: KubeObject) => ((object['status'] as { conditions?: Condition[] } | undefined)?.conditions ?? [])

/** Pure: a Certificate is ready when cert-manager says Ready=True for its current generation. */
export function certificateReadiness(object: KubeObject | undefined): Readiness {
  if (!object) return { done: false, seen: 'not found' }
  const ready = conditionsOf(object).find((c) => c.type === 'Ready')
  if (!ready) return { done: false, seen: 'no Ready condition yet (is cert-manager running?)' }
  const generation = object.metadata['generation'] as number | undefined
  const stale = ready.observedGeneration !== undefined && generation !== undefined && ready.observedGeneration < generation
  const seen = `Ready=${ready.status}${ready.reason ? ` (${ready.reason}${ready.message ? `: ${ready.message}` : ''})` : ''}${stale ? ', for an older generation' : ''}`
  return { done: ready.status === 'True' && !stale, seen }
}

type DeploymentStatus = { observedGeneration?: number; replicas?: number; updatedReplicas?: number; availableReplicas?: number }

/**
 * Pure: what `kubectl rollout status` checks — the controller saw this generation, every replica is updated and
 * available, and no replica of an older template is left. A rolling update whose new pod never comes up keeps the
 * old pod serving: available, but not rolled out.
 */
export function deploymentReadiness(object: KubeObject | undefined): Readiness {
  if (!object) return { done: false, seen: 'not found' }
  const want = ((object['spec'] as { replicas?: number } | undefined)?.replicas ?? 1)
  const status = (object['status'] ?? {}) as DeploymentStatus
  const generation = (object.metadata['generation'] as number | undefined) ?? 0
  const observed = (status.observedGeneration ?? 0) >= generation
  const updated = status.updatedReplicas ?? 0
  const available = status.availableReplicas ?? 0
  const old = Math.max(0, (status.replicas ?? 0) - updated)
  const seen = observed
    ? `${updated}/${want} updated, ${available}/${want} available${old > 0 ? `, ${old} of an older template still running` : ''}`
    : `generation ${generation} not yet observed by the controller`
  return { done: observed && updated >= want && available >= want && old === 0, seen }
}

export type WaitStepOptions = {
  name: string
  needs: readonly string[]
  timeout: Duration
  hint: string
  /** What the apply steps before it read and left unchanged: an object that was ready then costs no request. */
  observed?: ObservedObjects
}

/**
 * A step that only waits: ok when the objects are already ready, never writes, and is skipped under --plan because
 * nothing was applied to wait for.
 */
export function waitStep(kube: KubeClient, refs: readonly ObjectRef[], probe: (o: KubeObject | undefined) => Readiness, options: WaitStepOptions): Step<null, never> {
  return {
    name: options.name,
    needs: options.needs,
    check: async (ctx) => {
      if (ctx.plan) throw new StepSkipped('--plan applies nothing, so there is nothing to wait for')
      for (const ref of refs) {
        const what = `${describeRef(ref)} ready`
        // The read of the apply step before, when that changed nothing, is enough to finish at once; an object it
        // does not show ready is polled afresh (by now that read may be seconds old: the refs are waited in turn).
        const seen = options.observed?.take(ref)
        if (seen && probe(seen).done) continue
        await waitFor(async () => probe(await kube.get(ref)), { what, timeoutMs: options.timeout.milliseconds, signal: ctx.signal, progress: ctx.progress, hint: options.hint })
      }
      return null
    },
    desired: () => null,
    diff: () => [],
  }
}
