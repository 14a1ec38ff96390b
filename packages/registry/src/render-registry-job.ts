import type { HomelabConfig, KubeObject } from '@homelab/core'
import type { IDeployment } from 'kubernetes-models/apps/v1/Deployment'
import type { IJob } from 'kubernetes-models/batch/v1/Job'
import { containerNamed, finishObject } from './object-edits.js'
import { PART_OF, REGISTRY_CONFIG_PATH } from './registry-names.js'
import { distributionConfig, renderDistributionConfig } from './render-distribution-config.js'
import { renderRegistryDeployment } from './render-registry-workload.js'

export type RegistryJobOptions = {
  name: string
  /** `app.kubernetes.io/component`: what the Job is for (`verify-metrics`, `garbage-collect`). */
  component: string
  /** Run by the image's `sh -c`; whatever it writes to /dev/termination-log is the result the tool reads. */
  script: string
  /** Mount the registry's config and storage exactly as its Deployment does (garbage-collect needs both). */
  mountStorage: boolean
}

/** The config file the Jobs read: the path the registry image and the Deployment's mount use. */
export const JOB_CONFIG_PATH = REGISTRY_CONFIG_PATH

/**
 * A one-shot Job on the registry image (its busybox has sh and wget). Its pod labels deliberately differ from the
 * registry's, or the registry Service would send traffic to it; it runs as the registry's user so files it touches
 * on the volume keep their owner.
 */
export function renderRegistryJob(registry: HomelabConfig['registry'], options: RegistryJobOptions): KubeObject {
  const deployment = renderRegistryDeployment(registry, renderDistributionConfig(distributionConfig(registry))) as IDeployment
  const podSpec = deployment.spec!.template.spec!
  const registryContainer = containerNamed(deployment, 'registry')
  const shared = new Set(options.mountStorage ? ['config', 'data'] : [])
  const job: IJob = {
    apiVersion: 'batch/v1',
    kind: 'Job',
    metadata: { name: options.name, namespace: registry.namespace, labels: { 'app.kubernetes.io/component': options.component } },
    spec: {
      backoffLimit: 0,
      // A safety net: if the tool dies before deleting the Job, the cluster removes it.
      ttlSecondsAfterFinished: 3600,
      template: {
        metadata: { labels: { 'app.kubernetes.io/component': options.component, ...PART_OF } },
        spec: {
          restartPolicy: 'Never',
          enableServiceLinks: false,
          ...(podSpec.securityContext ? { securityContext: podSpec.securityContext } : {}),
          containers: [{
            name: options.component,
            image: registry.image,
            command: ['sh', '-c', options.script],
            terminationMessagePolicy: 'FallbackToLogsOnError',
            ...(registryContainer.securityContext ? { securityContext: registryContainer.securityContext } : {}),
            volumeMounts: (registryContainer.volumeMounts ?? []).filter((m) => shared.has(m.name)),
          }],
          volumes: (podSpec.volumes ?? []).filter((v) => shared.has(v.name)),
          // Beside the registry's pod: a ReadWriteOnce volume mounts on one node only. local-path's PV pins it there
          // anyway; other storage classes (Longhorn, RBD) would let the scheduler pick another node, where the pod
          // waits on a multi-attach error until the Job times out, with the registry read-only all along.
          ...(options.mountStorage
            ? { affinity: { podAffinity: { requiredDuringSchedulingIgnoredDuringExecution: [{ labelSelector: { matchLabels: { ...deployment.spec!.selector.matchLabels } }, namespaces: [registry.namespace], topologyKey: 'kubernetes.io/hostname' }] } } }
            : {}),
        },
      },
    },
  }
  return finishObject(job, 'registry')
}
