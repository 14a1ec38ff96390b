import { KubeError } from '../errors/kube-error.js'
import { StepSkipped, type Step } from '../step.js'
import { MANAGED_BY } from './apply-step.js'
import { NO_KIND, type KubeClient } from './kube-client.js'
import { describeRef, type KubeObject, type ObjectRef } from './kube-object.js'

/**
 * Ours: carries the managed-by label and was written by our field manager. Either alone is not enough. Written by
 * apply (what bootstrap converges) or by create (run locks, the rotation record): both only ever on our own objects.
 */
export function isOurs(object: KubeObject, fieldManager: string): boolean {
  const labelled = Object.entries(MANAGED_BY).every(([k, v]) => object.metadata.labels?.[k] === v)
  return labelled && (object.metadata.managedFields ?? []).some((f) => f.manager === fieldManager)
}

export type RemoveStepOptions = {
  /** Why the config no longer wants it, for the plan: `registry.ui.enabled is false`. */
  because: string
  /** The step's name; `remove <object>` by default. */
  name?: string
  /** With nothing of ours to remove, skip with this reason (a feature that is off says so) instead of `ok`. */
  skipWhenAbsent?: string
  needs?: readonly string[]
  /** Told the object as found, when it is ours and about to go (a Certificate's names, for its Secret's step). */
  seen?: (object: KubeObject) => void
}

/**
 * An object bootstrap made once and the config no longer asks for (a UI switched off, a token edition left): removed
 * when it is ours, so switching a feature off really switches it off. One that is not ours (same name, someone
 * else's) is never touched; the step says so. Absent, or its kind not served (an optional CRD): nothing to do.
 */
export function removeStep(kube: KubeClient, ref: ObjectRef, options: RemoveStepOptions): Step<KubeObject | undefined, 'delete'> {
  const name = describeRef(ref)
  return {
    name: options.name ?? `remove ${name}`,
    ...(options.needs ? { needs: options.needs } : {}),
    check: async (ctx) => {
      const current = await kube.get(ref).catch((error: unknown) => {
        if (error instanceof KubeError && error.reason === NO_KIND) return undefined
        throw error
      })
      if (current && !isOurs(current, kube.fieldManager)) ctx.warn(`${name} is there but was not made by this tool: left alone (${options.because})`)
      if (options.skipWhenAbsent !== undefined && !(current && isOurs(current, kube.fieldManager))) throw new StepSkipped(options.skipWhenAbsent)
      if (current && isOurs(current, kube.fieldManager)) options.seen?.(current)
      return current
    },
    desired: () => undefined,
    diff: (current) => (current && isOurs(current, kube.fieldManager) ? ['delete'] : []),
    describe: () => ({ summary: `delete ${name} (${options.because})` }),
    apply: async () => void (await kube.delete(ref)),
  }
}
