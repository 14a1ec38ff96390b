import { setTimeout as sleep } from 'node:timers/promises'
import type { HomelabConfig, KubeClient } from '@homelab/core'
import { runClusterJob, type ClusterJobOptions } from '../cluster-job.js'
import { GcError } from '../errors/gc-error.js'
import { distributionConfig } from '../render-distribution-config.js'
import { JOB_CONFIG_PATH, renderRegistryJob } from '../render-registry-job.js'
import { gcScript, parseGcReport, type GcReport } from './gc-output.js'

/** The pod label of a Job that deletes: the runbook waits for none to be left before the registry takes writes again. */
export const GC_COMPONENT = 'garbage-collect'

export type GcJobOptions = ClusterJobOptions & { name: string; dryRun: boolean; deleteUntagged: boolean }

/**
 * `registry garbage-collect` on the registry's own volume and config, as a Job (works on any cluster, and RWO
 * local-path volumes pin the pod to the registry's node). Its report is read, the Job deleted.
 */
export async function runGcJob(kube: KubeClient, registry: HomelabConfig['registry'], options: GcJobOptions): Promise<GcReport> {
  const rootDirectory = (distributionConfig(registry).storage['filesystem'] as { rootdirectory: string }).rootdirectory
  const script = gcScript({ dryRun: options.dryRun, deleteUntagged: options.deleteUntagged, configPath: JOB_CONFIG_PATH, rootDirectory })
  const job = renderRegistryJob(registry, { name: options.name, component: options.dryRun ? `${GC_COMPONENT}-dry-run` : GC_COMPONENT, script, mountStorage: true })
  const result = await runClusterJob(kube, job, options)
  const report = parseGcReport(result.message, result.exitCode)
  if (result.succeeded || report.emptyRegistry) return report
  throw new GcError(`garbage-collect${options.dryRun ? ' --dry-run' : ''} (Job ${registry.namespace}/${options.name}) exited ${result.exitCode}: ${report.errorTail.trim().slice(-600) || result.message.trim().slice(-600) || 'no output'}`, {
    hint: 'read the error above; the registry storage was not changed by a dry run, and a failed real run deletes nothing it still needs (it is read-only meanwhile)',
  })
}

/**
 * Waits until no pod of a deleting Job is left. Deleting a Job only asks for its pod to stop; the registry must not
 * take writes while a garbage-collect process may still be sweeping.
 */
export async function waitForGcPodsGone(kube: KubeClient, namespace: string, timeoutMs: number): Promise<void> {
  const deadline = Date.now() + timeoutMs
  for (;;) {
    const pods = await kube.list('v1', 'Pod', { namespace, labelSelector: `app.kubernetes.io/component=${GC_COMPONENT}` })
    if (pods.length === 0) return
    if (Date.now() > deadline) {
      throw new GcError(`${pods.length} garbage-collect pod(s) still exist in ${namespace} (${pods.map((p) => p.metadata.name).join(', ')})`, {
        hint: `delete them (kubectl -n ${namespace} delete pod -l app.kubernetes.io/component=${GC_COMPONENT}) and run gc again to put the registry back to read-write`,
      })
    }
    await sleep(500)
  }
}
