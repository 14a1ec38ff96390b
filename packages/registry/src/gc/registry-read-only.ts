import { describeApplyChange, describeRef, planApply, refOf, waitFor, withManagedByLabel, type HomelabConfig, type KubeClient, type KubeObject } from '@homelab/core'
import { GcError } from '../errors/gc-error.js'
import { deploymentReadiness } from '../readiness-steps.js'
import { CONFIG_CHECKSUM_ANNOTATION, REGISTRY_NAMES } from '../registry-names.js'
import { distributionConfig, renderDistributionConfig } from '../render-distribution-config.js'
import { renderConfigMap, renderRegistryDeployment } from '../render-registry-workload.js'

type RegistryConfig = HomelabConfig['registry']

export type RegistryMode = 'read-write' | 'read-only'

/**
 * The ConfigMap and Deployment exactly as bootstrap renders them, but for `storage.maintenance.readonly.enabled`.
 * Read-only lives in the config file (the env form panics the registry), and the checksum annotation follows the file,
 * so applying these rolls the pod onto the new mode.
 */
export function renderModeObjects(registry: RegistryConfig, mode: RegistryMode): { configMap: KubeObject; deployment: KubeObject; text: string; checksum: string } {
  const rendered = renderDistributionConfig(distributionConfig(registry, { readOnly: mode === 'read-only' }))
  return { configMap: renderConfigMap(registry, rendered), deployment: renderRegistryDeployment(registry, rendered), ...rendered }
}

const configRef = (registry: RegistryConfig) => ({ apiVersion: 'v1', kind: 'ConfigMap', namespace: registry.namespace, name: REGISTRY_NAMES.configMap })
const deploymentRef = (registry: RegistryConfig) => ({ apiVersion: 'apps/v1', kind: 'Deployment', namespace: registry.namespace, name: REGISTRY_NAMES.deployment })

const storedText = (configMap: KubeObject | undefined) => (configMap?.['data'] as Record<string, string> | undefined)?.[REGISTRY_NAMES.configKey]

const storedChecksum = (deployment: KubeObject | undefined) =>
  (deployment?.['spec'] as { template?: { metadata?: { annotations?: Record<string, string> } } } | undefined)?.template?.metadata?.annotations?.[CONFIG_CHECKSUM_ANNOTATION]

/**
 * Which mode the stored config.yml is in. Anything but one of the two renders means the cluster and homelab.yaml
 * differ; GC then refuses, since its restarts would also roll out that difference. So does a Deployment that differs
 * from the one rendered for that mode (another image, resources, auth Secret): GC applies the rendered one.
 */
export async function readRegistryMode(kube: KubeClient, registry: RegistryConfig): Promise<RegistryMode> {
  const mode = await configuredMode(kube, registry)
  const rendered = withManagedByLabel(renderModeObjects(registry, mode).deployment)
  const [current, predicted] = await Promise.all([kube.get(deploymentRef(registry)), kube.apply(rendered, { dryRun: true, force: true })])
  const changes = planApply({ current, predicted, fieldManager: kube.fieldManager }, rendered)
  if (changes.length > 0) {
    const what = changes.map((c) => describeApplyChange(c).summary).join('; ')
    throw new GcError(`${describeRef(deploymentRef(registry))} differs from what homelab.yaml renders (${what}), so restarting the registry for GC would also roll that out`, {
      hint: 'run `pnpm --filter registry run plan` to see the difference and bootstrap to apply it, then run gc again',
    })
  }
  return mode
}

async function configuredMode(kube: KubeClient, registry: RegistryConfig): Promise<RegistryMode> {
  const [configMap, deployment] = await Promise.all([kube.get(configRef(registry)), kube.get(deploymentRef(registry))])
  if (!configMap || !deployment) {
    throw new GcError(`the registry is not installed in namespace ${registry.namespace} (${!configMap ? describeRef(configRef(registry)) : describeRef(deploymentRef(registry))} is missing)`, {
      key: 'registry.namespace',
      hint: 'run the registry bootstrap first',
    })
  }
  const stored = storedText(configMap)
  for (const mode of ['read-write', 'read-only'] as const) if (stored === renderModeObjects(registry, mode).text) return mode
  throw new GcError(`${describeRef(configRef(registry))} differs from what homelab.yaml renders, so restarting the registry for GC would also change its config`, {
    hint: 'run `pnpm --filter registry run plan` to see the difference and bootstrap to apply it, then run gc again',
  })
}

/**
 * Applies the mode, ConfigMap first so the restarted pod mounts the new file; returns what changed, in words (empty:
 * it was already so). Changes are judged by the fields themselves: status writes move resourceVersion all the time.
 */
export async function applyRegistryMode(kube: KubeClient, registry: RegistryConfig, mode: RegistryMode, options: { force: boolean }): Promise<string[]> {
  const objects = renderModeObjects(registry, mode)
  const [configMap, deployment] = await Promise.all([kube.get(configRef(registry)), kube.get(deploymentRef(registry))])
  const lines = [
    ...(storedText(configMap) === objects.text ? [] : [`${describeRef(configRef(registry))}: config.yml storage.maintenance.readonly.enabled: ${mode === 'read-only'}`]),
    ...(storedChecksum(deployment) === objects.checksum ? [] : [`${describeRef(deploymentRef(registry))}: ${CONFIG_CHECKSUM_ANNOTATION} ${objects.checksum.slice(0, 12)}… (the registry restarts)`]),
  ]
  for (const object of [objects.configMap, objects.deployment]) await kube.apply(withManagedByLabel(object), { dryRun: false, force: options.force })
  return lines
}

/** What `kubectl rollout status` waits for: the restarted registry runs the new config and is available. */
export async function waitForRegistryRollout(kube: KubeClient, registry: RegistryConfig, options: { timeoutMs: number; signal?: AbortSignal | undefined; progress?: (m: string) => void }): Promise<void> {
  const ref = deploymentRef(registry)
  await waitFor(async () => deploymentReadiness(await kube.get(ref)), {
    what: `${describeRef(ref)} rolled out`,
    timeoutMs: options.timeoutMs,
    intervalMs: 500,
    ...(options.signal ? { signal: options.signal } : {}),
    ...(options.progress ? { progress: options.progress } : {}),
    hint: `check the pod: kubectl -n ${registry.namespace} describe deployment ${REGISTRY_NAMES.deployment}; raise timeouts.rollout if it is only slow`,
  })
}
