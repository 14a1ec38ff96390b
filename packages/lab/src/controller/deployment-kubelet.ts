import { createHash } from 'node:crypto'
import { existsSync, readdirSync, readFileSync, rmSync, writeFileSync } from 'node:fs'
import { logTail } from '../detached-process.js'
import { objectPath, type ClusterSnapshot } from './cluster-snapshot.js'
import type { ControllerContext } from './controller-context.js'
import { controllerPaths, podPaths } from './controller-paths.js'
import { describeObject, objectKey, type Condition, type Container, type Deployment } from './kube-objects.js'
import { carryTransitionTimes, patchStatusIfChanged } from './object-status.js'
import { podIpsFor } from './pod-ips.js'
import { planPod, podRunner } from './pod-plan.js'
import { livePodPid, startPod, stopPod } from './pod-process.js'
import { probeReadiness } from './readiness-probe.js'
import type { RunningPod, ServiceAddress } from './service-addresses.js'

/** Memory across passes: when each pod last started and how often it crashed since; its last readiness probe. */
export type KubeletMemory = {
  starts: Map<string, { startedAt: number; crashes: number }>
  probes: Map<string, { at: number; ready: boolean }>
}

export const newKubeletMemory = (): KubeletMemory => ({ starts: new Map(), probes: new Map() })

type PodState = { phase: 'running' | 'waiting' | 'starting'; ready: boolean }

/** Pure. The template's hash: a rollout (new env, new annotation such as restartedAt) changes it; a mounted Secret's content does not. */
export const templateHash = (deployment: Deployment) => createHash('sha256').update(JSON.stringify(deployment.spec?.template ?? {})).digest('hex').slice(0, 16)

const wantsPod = (d: Deployment) => (d.spec?.replicas ?? 1) >= 1 && podRunner(d.spec?.template ?? {}).runner !== undefined

/** The Deployments the lab runs a pod for, with their stable pod IPs: what Services and Traefik route to. */
export function runningPods(stateDir: string, snapshot: ClusterSnapshot): RunningPod[] {
  const wanted = snapshot.deployments.filter(wantsPod)
  const ips = podIpsFor(stateDir, wanted.map(objectKey), new Set(snapshot.deployments.map(objectKey)))
  return wanted.map((d) => ({ namespace: d.metadata.namespace ?? 'default', name: d.metadata.name, podIp: ips.get(objectKey(d)) ?? '', template: d.spec?.template ?? {} }))
}

/** A crashed program comes back after 1 s, 2 s, 4 s … up to 30 s, like the kubelet's CrashLoopBackOff (shorter). */
function mayStartAgain(memory: KubeletMemory, key: string): boolean {
  const last = memory.starts.get(key)
  return last === undefined || Date.now() - last.startedAt > Math.min(30_000, 1_000 * 2 ** last.crashes)
}

/**
 * The readiness probe every pass until it passes (a rollout shows ready promptly), then every `periodSeconds`
 * (default 10, as the kubelet) so the program's log is not flooded with probe requests.
 */
async function probe(key: string, container: Container, podIp: string, memory: KubeletMemory): Promise<boolean> {
  const last = memory.probes.get(key)
  const periodMs = (container.readinessProbe?.periodSeconds ?? 10) * 1000
  if (last?.ready && Date.now() - last.at < periodMs) return true
  const ready = await probeReadiness(container, podIp)
  memory.probes.set(key, { at: Date.now(), ready })
  return ready
}

async function runPod(context: ControllerContext, deployment: Deployment, pod: RunningPod, input: { snapshot: ClusterSnapshot; addresses: readonly ServiceAddress[]; memory: KubeletMemory }): Promise<PodState> {
  const key = objectKey(deployment)
  const paths = podPaths(context.stateDir, 'deployment', pod.namespace, pod.name)
  const hash = templateHash(deployment)
  let pid = livePodPid(paths)
  const runningHash = existsSync(paths.templateHash) ? readFileSync(paths.templateHash, 'utf8').trim() : ''
  const plan = planPod({ stateDir: context.stateDir, paths, kind: 'deployment', namespace: pod.namespace, podName: pod.name, template: pod.template, podIp: pod.podIp, ...input })
  if (pid !== undefined && runningHash !== hash) {
    await stopPod(paths)
    context.log.info(`${describeObject(deployment)}: pod template changed; stopped pid ${pid} (rollout)`)
    pid = undefined
    input.memory.starts.delete(key)
    input.memory.probes.delete(key)
  }
  if (pid !== undefined) return { phase: 'running', ready: await probe(key, plan.container ?? { name: '' }, pod.podIp, input.memory) }
  if (!plan.launch) {
    context.log.once(`deployment ${key}`, `${describeObject(deployment)}: waiting: ${plan.waitingFor.join('; ')}`)
    return { phase: 'waiting', ready: false }
  }
  if (!mayStartAgain(input.memory, key)) return { phase: 'starting', ready: false }
  const previous = input.memory.starts.get(key)
  if (previous && runningHash === hash) context.log.info(`${describeObject(deployment)}: program exited; its log ${paths.log} ends with:\n${logTail(paths.log, 8)}`)
  const started = startPod(plan.launch)
  writeFileSync(paths.templateHash, `${hash}\n`)
  const crashLooping = previous !== undefined && runningHash === hash && Date.now() - previous.startedAt < 60_000
  input.memory.starts.set(key, { startedAt: Date.now(), crashes: crashLooping ? previous.crashes + 1 : 0 })
  input.memory.probes.delete(key)
  context.log.clear(`deployment ${key}`)
  context.log.info(`${describeObject(deployment)}: started ${plan.runner?.program} on ${pod.podIp} as pid ${started}`)
  return { phase: 'starting', ready: false }
}

/** Pure. The status the deployment controller would report for one pod in `state` (one process stands for all replicas). */
export function deploymentStatus(deployment: Deployment, state: PodState | undefined, now: string): Record<string, unknown> {
  const replicas = Math.max(0, deployment.spec?.replicas ?? 1)
  const ready = replicas === 0 || state?.ready === true
  const available: Condition = ready
    ? { type: 'Available', status: 'True', reason: 'MinimumReplicasAvailable', message: 'Deployment has minimum availability.' }
    : { type: 'Available', status: 'False', reason: 'MinimumReplicasUnavailable', message: 'Deployment does not have minimum availability.' }
  const progressing: Condition = ready
    ? { type: 'Progressing', status: 'True', reason: 'NewReplicaSetAvailable', message: `ReplicaSet "${deployment.metadata.name}" has successfully progressed.` }
    : { type: 'Progressing', status: 'True', reason: 'ReplicaSetUpdated', message: `ReplicaSet "${deployment.metadata.name}" is progressing.` }
  const conditions = carryTransitionTimes(deployment.status?.conditions, [available, progressing], now).map((c) => ({ ...c, lastUpdateTime: c.lastTransitionTime }))
  const counts = { replicas, updatedReplicas: replicas, readyReplicas: ready ? replicas : 0, availableReplicas: ready ? replicas : 0, unavailableReplicas: ready ? 0 : replicas }
  return { observedGeneration: deployment.metadata.generation, ...counts, conditions }
}

/** Stops the pods of Deployments that are gone, scaled to 0, or no longer runnable; forgets the folders of deleted ones. */
async function stopUnwanted(context: ControllerContext, wanted: ReadonlySet<string>, existing: ReadonlySet<string>): Promise<void> {
  const dir = controllerPaths(context.stateDir).pods
  if (!existsSync(dir)) return
  for (const entry of readdirSync(dir).filter((e) => e.startsWith('deployment.'))) {
    const [, namespace = '', ...rest] = entry.split('.')
    const key = `${namespace}/${rest.join('.')}`
    if (wanted.has(key)) continue
    const paths = podPaths(context.stateDir, 'deployment', namespace, rest.join('.'))
    const pid = livePodPid(paths)
    if (pid !== undefined && (await stopPod(paths))) context.log.info(`Deployment ${key}: scaled to 0 or deleted; stopped pid ${pid}`)
    if (!existing.has(key)) rmSync(paths.dir, { recursive: true, force: true })
  }
}

/**
 * The kubelet and deployment controller for Deployments whose image the lab knows: one process per Deployment on
 * its own pod IP, restarted on a template change, stopped at 0 replicas or when deleted; status through the
 * status subresource. Anything else is logged once and left alone.
 */
export async function reconcileDeployments(context: ControllerContext, snapshot: ClusterSnapshot, pods: readonly RunningPod[], addresses: readonly ServiceAddress[], memory: KubeletMemory): Promise<void> {
  await stopUnwanted(context, new Set(pods.map((p) => `${p.namespace}/${p.name}`)), new Set(snapshot.deployments.map(objectKey)))
  const now = new Date().toISOString()
  for (const deployment of snapshot.deployments) {
    const key = objectKey(deployment)
    const pod = pods.find((p) => `${p.namespace}/${p.name}` === key)
    const { unsupported } = podRunner(deployment.spec?.template ?? {})
    if (unsupported) {
      context.log.once(`deployment ${key}`, `${describeObject(deployment)}: not run: ${unsupported}`)
      continue
    }
    try {
      const state = pod ? await runPod(context, deployment, pod, { snapshot, addresses, memory }) : undefined
      await patchStatusIfChanged(context.client, objectPath('Deployment', deployment.metadata.namespace, deployment.metadata.name), deployment.status, deploymentStatus(deployment, state, now))
    } catch (error) {
      context.log.failure(`deployment ${key}`, `${describeObject(deployment)}: cannot run`, error)
    }
  }
}
