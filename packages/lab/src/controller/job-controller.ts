import { randomInt } from 'node:crypto'
import { existsSync, readdirSync, readFileSync, rmSync } from 'node:fs'
import { logTail } from '../detached-process.js'
import { objectPath, type ClusterSnapshot } from './cluster-snapshot.js'
import type { ControllerContext } from './controller-context.js'
import { controllerPaths, podPaths } from './controller-paths.js'
import { describeObject, objectKey, type Condition, type Container, type Job, type Pod } from './kube-objects.js'
import { carryTransitionTimes, patchStatusIfChanged } from './object-status.js'
import { planPod, podRunner } from './pod-plan.js'
import { livePodPid, recordedExitCode, startPod, stopPod } from './pod-process.js'
import type { ServiceAddress } from './service-addresses.js'

const NAME_ALPHABET = 'bcdfghjklmnpqrstvwxz2456789' // the one Kubernetes uses for generated suffixes
const MESSAGE_LIMIT = 4096

/** Pure. `<job>-<5 chars>`, the Job controller's pod name. */
export const jobPodName = (job: string, pick: (n: number) => number = randomInt) =>
  `${job.slice(0, 57)}-${Array.from({ length: 5 }, () => NAME_ALPHABET[pick(NAME_ALPHABET.length)]).join('')}`

const isFinished = (job: Job) => (job.status?.conditions ?? []).some((c) => (c.type === 'Complete' || c.type === 'Failed') && c.status === 'True')
const podsOf = (job: Job, snapshot: ClusterSnapshot) => snapshot.jobPods.filter((p) => p.metadata.labels?.['controller-uid'] === job.metadata.uid)
const podPathsOf = (context: ControllerContext, pod: Pod) => podPaths(context.stateDir, 'job', pod.metadata.namespace ?? 'default', pod.metadata.name)

function podObject(job: Job): Pod {
  const template = job.spec?.template ?? {}
  return {
    apiVersion: 'v1', kind: 'Pod',
    metadata: {
      name: jobPodName(job.metadata.name), namespace: job.metadata.namespace,
      labels: { 'controller-uid': job.metadata.uid ?? '', 'job-name': job.metadata.name, ...template.metadata?.labels },
      ...(template.metadata?.annotations ? { annotations: template.metadata.annotations } : {}),
      ownerReferences: [{ apiVersion: 'batch/v1', kind: 'Job', name: job.metadata.name, uid: job.metadata.uid ?? '', controller: true }],
    },
    spec: template.spec ?? {},
  }
}

/** The termination message as the kubelet reads it: /dev/termination-log, else (FallbackToLogsOnError, on failure) the log tail. */
function terminationMessage(context: ControllerContext, pod: Pod, container: Container, exitCode: number): string {
  const paths = podPathsOf(context, pod)
  const written = existsSync(paths.terminationLog) ? readFileSync(paths.terminationLog, 'utf8') : ''
  if (written !== '' || exitCode === 0 || container.terminationMessagePolicy !== 'FallbackToLogsOnError') return written.slice(-MESSAGE_LIMIT)
  return logTail(paths.log, 80).slice(-2048)
}

function containerStatus(container: Container, state: Record<string, unknown>): Record<string, unknown> {
  return { name: container.name, image: container.image, imageID: '', ready: 'running' in state, restartCount: 0, started: 'running' in state, state }
}

type PodOutcome = 'active' | 'Succeeded' | 'Failed'
type JobInput = { snapshot: ClusterSnapshot; addresses: readonly ServiceAddress[] }

async function patchPodStatus(context: ControllerContext, pod: Pod, status: Record<string, unknown>): Promise<void> {
  await patchStatusIfChanged(context.client, objectPath('Pod', pod.metadata.namespace, pod.metadata.name), pod.status, status)
}

/** Records how a pod whose process ended did: exit code, reason, termination message. */
async function recordTermination(context: ControllerContext, pod: Pod, container: Container): Promise<PodOutcome> {
  const paths = podPathsOf(context, pod)
  const exitCode = recordedExitCode(paths) ?? 137 // no code recorded: it was killed
  const phase = exitCode === 0 ? 'Succeeded' : 'Failed'
  const now = new Date().toISOString()
  const terminated = { exitCode, reason: exitCode === 0 ? 'Completed' : 'Error', message: terminationMessage(context, pod, container, exitCode), startedAt: pod.status?.startTime ?? now, finishedAt: now }
  await patchPodStatus(context, pod, { phase, startTime: pod.status?.startTime ?? now, containerStatuses: [containerStatus(container, { terminated })] })
  context.log.info(`Pod ${objectKey(pod)} (Job): exited ${exitCode}`)
  return phase
}

/** Starts a created pod that has no process yet, or records the outcome of one whose process ended. */
async function progressPod(context: ControllerContext, job: Job, pod: Pod, input: JobInput): Promise<PodOutcome> {
  const phase = pod.status?.phase
  if (phase === 'Succeeded' || phase === 'Failed') return phase
  const paths = podPathsOf(context, pod)
  const template = job.spec?.template ?? {}
  const container = template.spec?.containers?.[0] ?? { name: '' }
  if (livePodPid(paths) !== undefined) return 'active'
  if (existsSync(paths.pidFile)) return recordTermination(context, pod, container)
  const namespace = pod.metadata.namespace ?? 'default'
  const plan = planPod({ stateDir: context.stateDir, paths, kind: 'job', namespace, podName: pod.metadata.name, template, ...input })
  if (!plan.launch) {
    context.log.once(`pod ${objectKey(pod)}`, `Pod ${objectKey(pod)} (Job): waiting: ${plan.waitingFor.join('; ')}`)
    const waiting = { waiting: { reason: 'ContainerCreating', message: plan.waitingFor.join('; ') } }
    await patchPodStatus(context, pod, { phase: 'Pending', containerStatuses: [containerStatus(container, waiting)] })
    return 'active'
  }
  const now = new Date().toISOString()
  const pid = startPod(plan.launch)
  context.log.info(`Pod ${objectKey(pod)} (Job ${job.metadata.name}): started ${plan.runner?.program} as pid ${pid}`)
  await patchPodStatus(context, pod, { phase: 'Running', startTime: now, containerStatuses: [containerStatus(container, { running: { startedAt: now } })] })
  return 'active'
}

/** Pure. The Job controller's status for these pod outcomes; timestamps already set are kept. */
export function jobStatus(job: Job, outcomes: readonly PodOutcome[], now: string): Record<string, unknown> {
  const count = (o: PodOutcome) => outcomes.filter((x) => x === o).length
  const [active, succeeded, failed] = [count('active'), count('Succeeded'), count('Failed')]
  const backoffLimit = job.spec?.backoffLimit ?? 6
  const finished: Condition | undefined = succeeded > 0
    ? { type: 'Complete', status: 'True' }
    : failed > backoffLimit ? { type: 'Failed', status: 'True', reason: 'BackoffLimitExceeded', message: 'Job has reached the specified backoff limit' } : undefined
  const conditions = finished ? carryTransitionTimes(job.status?.conditions, [finished], now).map((c) => ({ ...c, lastProbeTime: c.lastTransitionTime })) : undefined
  const completionTime = finished?.type === 'Complete' ? job.status?.completionTime ?? now : undefined
  return { startTime: job.status?.startTime ?? now, active, succeeded, failed, ...(completionTime ? { completionTime } : {}), ...(conditions ? { conditions } : {}) }
}

/** `ttlSecondsAfterFinished`: the TTL controller deletes the Job, and (no garbage collector here) its pods with it. */
async function expireFinished(context: ControllerContext, job: Job, snapshot: ClusterSnapshot): Promise<void> {
  const ttl = job.spec?.ttlSecondsAfterFinished
  if (ttl === undefined) return
  const finishedAt = job.status?.completionTime ?? job.status?.conditions?.find((c) => c.type === 'Failed')?.lastTransitionTime
  if (finishedAt === undefined || Date.now() < Date.parse(finishedAt) + ttl * 1000) return
  for (const pod of podsOf(job, snapshot)) await context.client.delete(objectPath('Pod', pod.metadata.namespace, pod.metadata.name))
  await context.client.delete(objectPath('Job', job.metadata.namespace, job.metadata.name), { propagationPolicy: 'Background' })
  context.log.info(`${describeObject(job)}: deleted ${ttl}s after it finished (ttlSecondsAfterFinished)`)
}

async function reconcileJob(context: ControllerContext, job: Job, input: JobInput): Promise<void> {
  if (isFinished(job)) return expireFinished(context, job, input.snapshot)
  if (job.spec?.suspend) return
  const outcomes: PodOutcome[] = []
  for (const pod of podsOf(job, input.snapshot)) outcomes.push(await progressPod(context, job, pod, input))
  const now = new Date().toISOString()
  const status = jobStatus(job, outcomes, now)
  if (status.active === 0 && status.conditions === undefined) {
    const pod = podObject(job)
    await context.client.create(objectPath('Pod', pod.metadata.namespace), pod)
    context.log.info(`${describeObject(job)}: created Pod ${pod.metadata.name}`)
    status.active = 1
  }
  await patchStatusIfChanged(context.client, objectPath('Job', job.metadata.namespace, job.metadata.name), job.status, status)
}

/** Pods whose Job is gone: the garbage collector would delete them; their processes stop. */
async function collectOrphans(context: ControllerContext, snapshot: ClusterSnapshot): Promise<void> {
  const uids = new Set(snapshot.jobs.map((j) => j.metadata.uid))
  for (const pod of snapshot.jobPods.filter((p) => !uids.has(p.metadata.labels?.['controller-uid']))) {
    await stopPod(podPathsOf(context, pod))
    await context.client.delete(objectPath('Pod', pod.metadata.namespace, pod.metadata.name))
    context.log.info(`Pod ${objectKey(pod)}: its Job is gone; stopped and deleted`)
  }
  // Folders of pods deleted by anyone (TTL, namespace deletion, kubectl): stop what still runs, then forget them.
  const known = new Set(snapshot.jobPods.map((p) => `job.${p.metadata.namespace}.${p.metadata.name}`))
  const dir = controllerPaths(context.stateDir).pods
  for (const entry of existsSync(dir) ? readdirSync(dir).filter((e) => e.startsWith('job.') && !known.has(e)) : []) {
    const [, namespace = '', ...rest] = entry.split('.')
    const paths = podPaths(context.stateDir, 'job', namespace, rest.join('.'))
    await stopPod(paths)
    rmSync(paths.dir, { recursive: true, force: true })
  }
}

/**
 * The Job controller and kubelet for Jobs whose image the lab knows: a Pod object per attempt (`<job>-xxxxx`,
 * labels `controller-uid`, `job-name`), its program run in the pod's mount namespace on the same volumes a
 * Deployment would get, retries up to `backoffLimit`, then the Job's Complete or Failed condition.
 */
export async function reconcileJobs(context: ControllerContext, snapshot: ClusterSnapshot, addresses: readonly ServiceAddress[]): Promise<void> {
  for (const job of snapshot.jobs) {
    const key = `job ${objectKey(job)}`
    const { unsupported } = podRunner(job.spec?.template ?? {})
    if (unsupported) {
      context.log.once(key, `${describeObject(job)}: not run: ${unsupported}`)
      continue
    }
    await reconcileJob(context, job, { snapshot, addresses }).catch((error: unknown) => context.log.failure(key, `${describeObject(job)}: cannot run`, error))
  }
  await collectOrphans(context, snapshot).catch((error: unknown) => context.log.failure('job orphans', 'cannot collect the pods of deleted Jobs', error))
}
