import { claimStep, type ApplyStepOptions, type KubeClient, type KubeObject, type Step } from '@homelab/core'

const MIGRATION =
  'scale Deployment registry to 0, create a claim with the new size/class under another name, copy /var/lib/registry into it ' +
  '(a Job mounting both), delete the old claim, rename by recreating it from the copy, then re-run bootstrap'

/** The registry's claim: an existing one of another size or class fails the step with what to do (see claimStep). */
export function pvcStep(kube: KubeClient, pvc: KubeObject, options: ApplyStepOptions): Step {
  return claimStep(kube, pvc, { ...options, configKey: 'registry.storage', holds: 'every image', migration: MIGRATION })
}
