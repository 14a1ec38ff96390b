import { StepSkipped, waitFor, type KubeClient, type KubeObject, type ObservedObjects, type Step } from '@homelab/core'

type DeploymentStatus = { observedGeneration?: number; updatedReplicas?: number; availableReplicas?: number; conditions?: { type: string; status: string; reason?: string }[] }

/** Pure. Available and rolled out: the status must describe the current generation, or it is the old pod talking. */
export function deploymentProgress(deployment: KubeObject | undefined): { done: boolean; seen: string } {
  if (!deployment) return { done: false, seen: 'no Deployment' }
  const status = (deployment['status'] ?? {}) as DeploymentStatus
  const generation = Number(deployment.metadata['generation'] ?? 0)
  if ((status.observedGeneration ?? 0) < generation) return { done: false, seen: `generation ${generation} not yet observed` }
  const available = status.conditions?.find((c) => c.type === 'Available')
  const done = available?.status === 'True' && (status.updatedReplicas ?? 0) >= 1 && (status.availableReplicas ?? 0) >= 1
  return { done, seen: `available=${status.availableReplicas ?? 0} updated=${status.updatedReplicas ?? 0}${available?.reason ? ` (${available.reason})` : ''}` }
}

export function deploymentReadyStep(kube: KubeClient, ref: { namespace: string; name: string }, options: { timeoutMs: number; needs: readonly string[]; observed?: ObservedObjects }): Step<null, never> {
  const what = `Deployment ${ref.namespace}/${ref.name} available`
  return {
    name: 'localstack ready',
    needs: options.needs,
    check: async (ctx) => {
      if (ctx.plan) throw new StepSkipped('plan: nothing was applied, so nothing is waited for')
      const deployment = { apiVersion: 'apps/v1', kind: 'Deployment', ...ref }
      // The Deployment as its apply step read it, when that changed nothing: ready then, it is ready now.
      const seen = options.observed?.take(deployment)
      if (seen && deploymentProgress(seen).done) return null
      const probe = async () => deploymentProgress(await kube.get(deployment))
      await waitFor(probe, {
        what,
        timeoutMs: options.timeoutMs,
        intervalMs: 2000,
        signal: ctx.signal,
        progress: ctx.progress,
        hint: `see kubectl -n ${ref.namespace} describe deployment ${ref.name} and the pod's logs; raise timeouts.localstackReady if the image is still pulling`,
      })
      return null
    },
    desired: () => null,
    diff: () => [],
  }
}
