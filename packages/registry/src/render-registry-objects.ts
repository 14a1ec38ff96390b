import { issuedSecretOf, refOf, type HomelabConfig, type IssuedSecret, type KubeObject, type ObjectRef } from '@homelab/core'
import { REGISTRY_NAMES } from './registry-names.js'
import { distributionConfig, renderDistributionConfig, type RenderedDistributionConfig } from './render-distribution-config.js'
import { renderHostCertificate, renderCaChain, type CaChain } from './render-tls.js'
import { renderRegistryRoute, renderUiRoute } from './render-ingress-routes.js'
import { renderLocalRegistryHosting, renderServiceMonitor } from './render-monitoring.js'
import { renderUiDeployment, renderUiService } from './render-registry-ui.js'
import { renderConfigMap, renderNamespace, renderPvc, renderRegistryDeployment, renderRegistryService } from './render-registry-workload.js'

export type UiObjects = { deployment: KubeObject; service: KubeObject; certificate: KubeObject; route: KubeObject }

/** Everything bootstrap applies except the Secrets, whose values depend on what the cluster keeps. */
export type RegistryObjects = {
  config: RenderedDistributionConfig
  namespace: KubeObject
  pvc: KubeObject
  configMap: KubeObject
  deployment: KubeObject
  service: KubeObject
  certificate: KubeObject
  route: KubeObject
  /** Absent when registry.ui.enabled is false. */
  ui: UiObjects | undefined
  /** Only in tls.mode ca. */
  caChain: CaChain | undefined
  /** Absent when metrics or the ServiceMonitor are off in config. */
  serviceMonitor: KubeObject | undefined
  localRegistryHosting: KubeObject
  /** What an earlier config had bootstrap make and this one switched off: removed when ours. */
  retired: { ref: ObjectRef; because: string }[]
  /** The Secrets cert-manager issued for the retired Certificates: it keeps them when a Certificate goes. */
  retiredIssuedSecrets: IssuedSecret[]
}

/** Pure: config in, validated objects out; the same config always renders the same objects. */
export function renderRegistryObjects(config: HomelabConfig): RegistryObjects {
  const { registry, tls } = config
  const rendered = renderDistributionConfig(distributionConfig(registry))
  const certificate = (name: string, host: string, app: 'registry' | 'registry-ui') => renderHostCertificate({ tls, namespace: registry.namespace, name, host, app })
  const uiObjects = (): UiObjects => ({
    deployment: renderUiDeployment(registry),
    service: renderUiService(registry),
    certificate: certificate(REGISTRY_NAMES.uiCertificate, registry.hosts.ui, 'registry-ui'),
    route: renderUiRoute(config),
  })
  const wantsServiceMonitor = registry.metrics.enabled && registry.metrics.serviceMonitor
  const retired = [
    ...(registry.ui.enabled ? [] : Object.values(uiObjects()).map((object) => ({ object, because: 'registry.ui.enabled is false' }))),
    ...(wantsServiceMonitor ? [] : [{ object: renderServiceMonitor(registry), because: registry.metrics.enabled ? 'registry.metrics.serviceMonitor is false' : 'registry.metrics.enabled is false' }]),
  ]
  return {
    config: rendered,
    namespace: renderNamespace(registry),
    pvc: renderPvc(registry),
    configMap: renderConfigMap(registry, rendered),
    deployment: renderRegistryDeployment(registry, rendered),
    service: renderRegistryService(registry),
    certificate: certificate(REGISTRY_NAMES.registryCertificate, registry.hosts.registry, 'registry'),
    route: renderRegistryRoute(config),
    ui: registry.ui.enabled ? uiObjects() : undefined,
    caChain: tls.mode === 'ca' ? renderCaChain(tls) : undefined,
    serviceMonitor: wantsServiceMonitor ? renderServiceMonitor(registry) : undefined,
    localRegistryHosting: renderLocalRegistryHosting(registry),
    retired: retired.map(({ object, because }) => ({ ref: refOf(object), because })),
    retiredIssuedSecrets: retired.flatMap(({ object, because }) => issuedSecretOf(object, because)),
  }
}

/** Every rendered object, in apply order (for tests, and for tools that list what the registry owns). */
export function listRegistryObjects(objects: RegistryObjects): KubeObject[] {
  const { caChain, ui } = objects
  return [
    objects.namespace,
    objects.pvc,
    objects.configMap,
    objects.deployment,
    objects.service,
    ...(caChain ? [caChain.selfSignedIssuer, caChain.rootCertificate, caChain.caIssuer] : []),
    objects.certificate,
    objects.route,
    ...(ui ? [ui.deployment, ui.service, ui.certificate, ui.route] : []),
    ...(objects.serviceMonitor ? [objects.serviceMonitor] : []),
    objects.localRegistryHosting,
  ]
}
