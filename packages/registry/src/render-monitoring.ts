import type { HomelabConfig, KubeObject } from '@homelab/core'
import type { IServiceMonitor } from '@kubernetes-models/prometheus-operator/monitoring.coreos.com/v1/ServiceMonitor'
import type { IConfigMap } from 'kubernetes-models/v1/ConfigMap'
import { stringify } from 'yaml'
import { MANIFEST_FILES, readManifest } from './manifest-files.js'
import { addLabels, finishObject, setNamespace } from './object-edits.js'
import { clusterRegistryHost, REGISTRY_NAMES } from './registry-names.js'

/** Operators pick ServiceMonitors by label (`release: kube-prometheus-stack`), so config can add some. */
export function renderServiceMonitor(registry: HomelabConfig['registry']): KubeObject {
  const monitor = setNamespace(readManifest<IServiceMonitor>(MANIFEST_FILES.serviceMonitor), registry.namespace)
  addLabels(monitor, registry.metrics.serviceMonitorLabels)
  return finishObject(monitor, 'registry')
}

/** KEP-1755's LocalRegistryHostingV1, in the field order the KEP shows. */
export function renderLocalRegistryHosting(registry: HomelabConfig['registry']): KubeObject {
  const configMap = readManifest<IConfigMap>(MANIFEST_FILES.localRegistryHosting)
  const hosting = {
    host: registry.hosts.registry,
    hostFromContainerRuntime: registry.hosts.registry,
    hostFromClusterNetwork: clusterRegistryHost(registry.namespace),
  }
  configMap.data = { [REGISTRY_NAMES.localRegistryHosting.key]: stringify(hosting) }
  return finishObject(configMap, 'registry')
}
