import { applyStep, type ApplySnapshot, type ApplyStepOptions, type KubeClient, type KubeObject, type Step } from '@homelab/core'

/*
 * Core's applyStep compares the stored object with the server's dry-run, status included. A controller that writes
 * status between the two reads (cert-manager issuing, a Deployment rolling) then shows as an "update" with an empty
 * diff, and a second bootstrap reports changed=1 although nothing of ours drifted. Apply never sets status, and other
 * managers' bookkeeping is not ours to judge, so this compares without status and with only our manager's fields.
 */
export function applyIgnoringStatus(kube: KubeClient, object: KubeObject, options: ApplyStepOptions): Step {
  const inner = applyStep(kube, object, options)
  const ours = (o: KubeObject): KubeObject => {
    const { status: _status, ...rest } = o
    const managedFields = (o.metadata.managedFields ?? []).filter((f) => f.manager === kube.fieldManager)
    return { ...rest, metadata: { ...o.metadata, managedFields } }
  }
  return {
    ...inner,
    diff: (snapshot: ApplySnapshot, desired: KubeObject) =>
      inner.diff({ current: snapshot.current && ours(snapshot.current), predicted: ours(snapshot.predicted) }, desired),
  } as Step
}
