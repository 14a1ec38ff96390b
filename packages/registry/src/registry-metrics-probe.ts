import type { HomelabConfig, KubeClient } from '@homelab/core'
import { runClusterJob, type ClusterJobOptions } from './cluster-job.js'
import { RegistryVerifyError } from './errors/registry-verify-error.js'
import { PORTS, REGISTRY_NAMES } from './registry-names.js'
import { distributionConfig } from './render-distribution-config.js'
import { renderRegistryJob } from './render-registry-job.js'

/**
 * Pure. The probe's shell script: fetch the debug port's metrics inside the cluster and keep only the metric names,
 * which fit the 4 KiB a termination message may hold.
 */
export function metricsProbeScript(url: string): string {
  return [
    `if ! wget -T 10 -O /tmp/metrics '${url}' 2>/tmp/wget.log; then`,
    `  { echo "wget ${url} failed:"; tail -c 1500 /tmp/wget.log; } > /dev/termination-log`,
    `  exit 1`,
    `fi`,
    `grep -o '^registry_[a-z_]*' /tmp/metrics | sort -u | head -c 3500 > /dev/termination-log`,
  ].join('\n')
}

/** Pure: the registry_ metric names in the probe's message. */
export const registryMetricNames = (message: string) => message.split('\n').filter((line) => /^registry_[a-z_]+$/.test(line))

export const metricsUrl = (registry: HomelabConfig['registry']) =>
  `http://${REGISTRY_NAMES.service}.${registry.namespace}.svc:${PORTS.metrics}${distributionConfig(registry).http.debug.prometheus.path}`

/**
 * The debug port is never routed through the ingress (it also serves pprof), so it is read from inside the cluster by
 * a short-lived Job on the registry image. Returns the registry_ metric names; none is a failure.
 */
export async function probeRegistryMetrics(kube: KubeClient, registry: HomelabConfig['registry'], options: ClusterJobOptions & { name: string }): Promise<string[]> {
  const url = metricsUrl(registry)
  const job = renderRegistryJob(registry, { name: options.name, component: 'verify-metrics', script: metricsProbeScript(url), mountStorage: false })
  const result = await runClusterJob(kube, job, options)
  const names = registryMetricNames(result.message)
  if (result.succeeded && names.length > 0) return names
  const why = result.succeeded ? 'it answered without registry_ series' : `the probe failed (exit ${result.exitCode}): ${result.message.trim().slice(0, 500) || 'no output'}`
  throw new RegistryVerifyError(`metrics at ${url} (read by Job ${registry.namespace}/${options.name}): ${why}`, {
    key: 'registry.metrics.enabled',
    hint: 'check http.debug in ConfigMap registry-config (addr :5001, prometheus.enabled) and that Service registry has the metrics port; run bootstrap if not',
  })
}
