import { PvcMismatchError } from '../errors/pvc-mismatch-error.js'
import { Size } from '../config/quantity.js'
import type { Step } from '../step.js'
import { applyStep, type ApplyStepOptions } from './apply-step.js'
import type { KubeClient } from './kube-client.js'
import { describeRef, refOf, type KubeObject } from './kube-object.js'

type ClaimShape = { size: string | undefined; storageClass: string | undefined }

const shapeOf = (pvc: KubeObject): ClaimShape => {
  const spec = pvc['spec'] as { storageClassName?: string; resources?: { requests?: { storage?: string } } } | undefined
  return { size: spec?.resources?.requests?.storage, storageClass: spec?.storageClassName }
}

const sameSize = (a: string | undefined, b: string | undefined) => a !== undefined && b !== undefined && Size.parse(a).compare(Size.parse(b)) === 0

/** Pure: why an existing claim cannot become the desired one, or undefined when it already is. */
export function pvcMismatch(current: KubeObject, desired: KubeObject, holds = 'its data'): string | undefined {
  const have = shapeOf(current)
  const want = shapeOf(desired)
  if (sameSize(have.size, want.size) && have.storageClass === want.storageClass) return undefined
  const name = describeRef(refOf(desired))
  return (
    `${name} exists with ${have.size} on storage class "${have.storageClass}", but config asks for ${want.size} on "${want.storageClass}". ` +
    `The tool never resizes or recreates this claim: a claim cannot shrink, its storage class cannot change, and recreating it would delete ${holds}`
  )
}

export type ClaimStepOptions = ApplyStepOptions & {
  /** Where config sets the claim: `registry.storage` (its `size` and `storageClass`). */
  configKey: string
  /** What recreating the claim would delete, for the message: `every image`. */
  holds: string
  /** How to move to another size or class by hand. */
  migration: string
}

/**
 * Server-side apply of a claim that holds data, guarded: an existing claim of another size or class fails the step
 * naming the config keys and what to do, and server-side apply is never asked to change it (the API server refuses a
 * shrink or a class change with a 422, and a grow on a class that cannot expand, K3s's local-path, with a 403; neither
 * says what to do).
 */
export function claimStep(kube: KubeClient, pvc: KubeObject, options: ClaimStepOptions): Step {
  const { configKey, holds, migration, ...applyOptions } = options
  const inner = applyStep(kube, pvc, applyOptions)
  return {
    ...inner,
    check: async (ctx) => {
      const current = await kube.get(refOf(pvc))
      const mismatch = current ? pvcMismatch(current, pvc, holds) : undefined
      if (mismatch) {
        throw new PvcMismatchError(mismatch, {
          object: describeRef(refOf(pvc)),
          host: kube.server,
          key: `${configKey}.size`,
          hint: `either set ${configKey}.size and ${configKey}.storageClass to what exists, or migrate by hand: ${migration}`,
        })
      }
      return inner.check(ctx)
    },
  }
}
