import { existsSync, mkdirSync, realpathSync, statSync } from 'node:fs'
import { join } from 'node:path'
import type { ClusterSnapshot } from './cluster-snapshot.js'
import type { PodPaths } from './controller-paths.js'
import { runnerFor, type ImageRunner } from './image-runners.js'
import type { Container, PodTemplate } from './kube-objects.js'
import { containerEnv } from './pod-env.js'
import { checkMountPath, type PodLaunch, type PodMount } from './pod-process.js'
import { materializeVolumes, type PodVolume } from './pod-volumes.js'
import { podHostsFile, writeInPlace, type ServiceAddress } from './service-addresses.js'

export type PodPlanInput = {
  stateDir: string
  paths: PodPaths
  kind: 'deployment' | 'job'
  namespace: string
  podName: string
  template: PodTemplate
  podIp?: string
  snapshot: ClusterSnapshot
  addresses: readonly ServiceAddress[]
}

/** How to run a pod now, or what it waits for (a Secret not there yet), or why the lab cannot run it at all. */
export type PodPlan = { launch?: PodLaunch; container?: Container; runner?: ImageRunner; waitingFor: string[]; unsupported?: string }

/** The image's runner, or why the lab cannot play this pod (then it logs it and leaves the object alone). */
export function podRunner(template: PodTemplate): { container?: Container; runner?: ImageRunner; unsupported?: string } {
  const container = template.spec?.containers?.[0]
  if (!container) return { unsupported: 'the pod template has no containers' }
  const runner = runnerFor(container.image)
  if (!runner) return { unsupported: `image ${container.image ?? '(none)'} is not one the lab can run (see the image table in packages/lab/README.md)` }
  return { container, runner }
}

function mountsOf(container: Container, volumes: Map<string, PodVolume>, waitingFor: string[]): PodMount[] {
  const mounts: PodMount[] = []
  for (const mount of container.volumeMounts ?? []) {
    const volume = volumes.get(mount.name)
    const problem = checkMountPath(mount.mountPath)
    if (problem) waitingFor.push(problem)
    if (!volume || problem) continue
    // subPath is resolved once, at start, as the kubelet does: later updates of that file do not reach the pod.
    const source = mount.subPath ? join(volume.hostPath, mount.subPath) : volume.hostPath
    if (mount.subPath && !existsSync(source)) mkdirSync(source, { recursive: true })
    const hostPath = realpathSync(source)
    mounts.push({ hostPath, containerPath: mount.mountPath, readOnly: volume.readOnly || (mount.readOnly ?? false), isFile: statSync(hostPath).isFile() })
  }
  return mounts
}

/** Pure over the mounts. The host file behind a path inside the pod: the deepest mount that holds it. */
export function hostPathIn(mounts: readonly PodMount[], containerPath: string): string | undefined {
  const holder = [...mounts].sort((a, b) => b.containerPath.length - a.containerPath.length)
    .find((m) => containerPath === m.containerPath || containerPath.startsWith(`${m.containerPath.replace(/\/$/, '')}/`))
  return holder && join(holder.hostPath, containerPath.slice(holder.containerPath.length))
}

/** Materializes the pod's volumes and hosts file, resolves its environment, and asks the image table what to run. */
export function planPod(input: PodPlanInput): PodPlan {
  const { container, runner, unsupported } = podRunner(input.template)
  if (!container || !runner) return { waitingFor: [], unsupported }
  const spec = input.template.spec ?? {}
  mkdirSync(input.paths.dir, { recursive: true })
  writeInPlace(input.paths.hosts, podHostsFile(input.namespace, input.podName, input.podIp, input.addresses))
  const { volumes, waitingFor } = materializeVolumes({ stateDir: input.stateDir, podVolumesDir: input.paths.volumes, namespace: input.namespace, spec, snapshot: input.snapshot })
  const pod = { namespace: input.namespace, name: input.podName, podIp: input.podIp, serviceLinks: spec.enableServiceLinks !== false }
  const env = containerEnv(container, pod, input.snapshot)
  waitingFor.push(...env.waitingFor)
  const mounts = mountsOf(container, volumes, waitingFor)
  if (waitingFor.length > 0) return { container, runner, waitingFor }
  const command = runner.command({ container, podIp: input.podIp, env: env.env, hostPathOf: (path) => hostPathIn(mounts, path) })
  const launch = { paths: input.paths, mounts, argv: command.argv, env: { ...env.env, ...command.env }, recordExitCode: input.kind === 'job' }
  return { launch, container, runner, waitingFor }
}
