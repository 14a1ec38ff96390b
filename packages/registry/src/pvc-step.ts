import { describeRef, refOf, Size, type ApplyStepOptions, type KubeClient, type KubeObject, type Step, applyStep } from '@homelab/core'
import { PvcMismatchError } from './errors/pvc-mismatch-error.js'

type ClaimShape = { size: string | undefined; storageClass: string | undefined }

const shapeOf = (pvc: KubeObject): ClaimShape => {
  const spec = pvc['spec'] as { storageClassName?: string; resources?: { requests?: { storage?: string } } } | undefined
  return { size: spec?.resources?.requests?.storage, storageClass: spec?.storageClassName }
}

const sameSize = (a: string | undefined, b: string | undefined) => a !== undefined && b !== undefined && Size.parse(a).compare(Size.parse(b)) === 0

/** Pure: why an existing claim cannot become the desired one, or undefined when it already is. */
export function pvcMismatch(current: KubeObject, desired: KubeObject): string | undefined {
  const have = shapeOf(current)
  const want = shapeOf(desired)
  if (sameSize(have.size, want.size) && have.storageClass === want.storageClass) return undefined
  const name = describeRef(refOf(desired))
  return (
    `${name} exists with ${have.size} on storage class "${have.storageClass}", but config asks for ${want.size} on "${want.storageClass}". ` +
    `The tool never resizes or recreates this claim: a claim cannot shrink, its storage class cannot change, and recreating it would delete every image`
  )
}

const MIGRATION_HINT =
  'either set registry.storage.size and registry.storage.storageClass to what exists, or migrate by hand: ' +
  'scale Deployment registry to 0, create a claim with the new size/class under another name, copy /var/lib/registry into it ' +
  '(a Job mounting both), delete the old claim, rename by recreating it from the copy, then re-run bootstrap'

/**
 * Server-side apply of the registry's claim, guarded: an existing claim of another size or class fails the step with
 * what to do, and server-side apply is never asked to change it (the API server would refuse a shrink or class change
 * anyway, and a grow on local-path cannot happen).
 */
export function pvcStep(kube: KubeClient, pvc: KubeObject, options: ApplyStepOptions): Step {
  const inner = applyStep(kube, pvc, options)
  return {
    ...inner,
    check: async (ctx) => {
      const current = await kube.get(refOf(pvc))
      const mismatch = current ? pvcMismatch(current, pvc) : undefined
      if (mismatch) throw new PvcMismatchError(mismatch, { object: describeRef(refOf(pvc)), host: kube.server, hint: MIGRATION_HINT })
      return inner.check(ctx)
    },
  }
}
