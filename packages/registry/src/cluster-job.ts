import { describeRef, refOf, waitFor, withManagedByLabel, type KubeClient, type KubeObject } from '@homelab/core'
import { ClusterJobError } from './errors/cluster-job-error.js'

/** How a Job's one pod ended: its exit code and termination message (what it wrote to /dev/termination-log). */
export type JobResult = { succeeded: boolean; exitCode: number | undefined; message: string; pod: string }

export type ClusterJobOptions = { timeoutMs: number; signal?: AbortSignal; progress?: (message: string) => void }

type Condition = { type?: string; status?: string; reason?: string; message?: string }
type JobStatus = { active?: number; succeeded?: number; failed?: number; conditions?: Condition[] }
type Terminated = { exitCode?: number; reason?: string; message?: string }
type PodStatus = { phase?: string; containerStatuses?: { state?: { terminated?: Terminated; waiting?: { reason?: string; message?: string } } }[] }

/** Pure: finished when the Job controller says Complete or Failed. */
export function jobFinished(job: KubeObject | undefined): { done: boolean; seen: string } {
  if (!job) return { done: false, seen: 'the Job is gone' }
  const status = (job['status'] ?? {}) as JobStatus
  const finished = (status.conditions ?? []).find((c) => (c.type === 'Complete' || c.type === 'Failed') && c.status === 'True')
  return { done: finished !== undefined, seen: finished ? finished.type! : `active=${status.active ?? 0} succeeded=${status.succeeded ?? 0} failed=${status.failed ?? 0}` }
}

/**
 * Runs a one-shot Job to the end and reads its pod's termination message, then deletes the Job (its pod goes with
 * it), whatever happened: only the result is kept. A Job of the same name left by an interrupted run is replaced.
 */
export async function runClusterJob(kube: KubeClient, job: KubeObject, options: ClusterJobOptions): Promise<JobResult> {
  const ref = refOf(job)
  const name = describeRef(ref)
  if (await kube.get(ref)) await kube.delete(ref)
  await kube.apply(withManagedByLabel(job), { dryRun: false, force: true })
  try {
    await waitFor(async () => jobFinished(await kube.get(ref)), {
      what: `${name} to finish`,
      timeoutMs: options.timeoutMs,
      ...(options.signal ? { signal: options.signal } : {}),
      ...(options.progress ? { progress: options.progress } : {}),
      hint: `look at its pod: kubectl -n ${ref.namespace} describe pod -l job-name=${ref.name}`,
    })
    return await jobResult(kube, job)
  } finally {
    await kube.delete(ref)
  }
}

async function jobResult(kube: KubeClient, job: KubeObject): Promise<JobResult> {
  const { namespace, name } = job.metadata
  const pods = await kube.list('v1', 'Pod', { namespace: namespace!, labelSelector: `job-name=${name}` })
  const finished = pods
    .map((pod) => ({ pod, terminated: ((pod['status'] ?? {}) as PodStatus).containerStatuses?.[0]?.state?.terminated }))
    .filter((p) => p.terminated !== undefined)
    .sort((a, b) => String(b.pod.metadata['creationTimestamp']).localeCompare(String(a.pod.metadata['creationTimestamp'])))[0]
  if (!finished) {
    throw new ClusterJobError(`Job ${namespace}/${name} finished, but none of its ${pods.length} pods reports how its container ended`, {
      job: name!,
      hint: 'the pod may have been deleted already; run again',
    })
  }
  const exitCode = finished.terminated!.exitCode
  return { succeeded: exitCode === 0, exitCode, message: finished.terminated!.message ?? '', pod: finished.pod.metadata.name }
}
