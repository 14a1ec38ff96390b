import type { HomelabConfig, KubeObject } from '@homelab/core'
import type { IProbe } from '@kubernetes-models/prometheus-operator/monitoring.coreos.com/v1/Probe'
import { MANIFEST_FILES, readManifest } from './manifest-files.js'
import { NAMES } from './localstack-names.js'

/** A Prometheus-operator Probe through the configured blackbox exporter; undefined when none is configured. */
export function renderHealthProbe(config: HomelabConfig): KubeObject | undefined {
  const { probe, namespace, host } = config.localstack
  if (probe.blackboxExporter === undefined) return undefined
  const object = readManifest<IProbe>(MANIFEST_FILES.probe)
  object.metadata = { ...object.metadata, name: NAMES.probe, namespace }
  object.spec = {
    ...object.spec,
    jobName: NAMES.probe,
    interval: probe.interval.toString(),
    module: probe.module,
    prober: { url: probe.blackboxExporter },
    targets: { staticConfig: { static: [`https://${host}/_localstack/health`] } },
  }
  return object as unknown as KubeObject
}
