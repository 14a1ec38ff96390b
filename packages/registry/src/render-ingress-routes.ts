import { ManifestError } from '@homelab/core'
import type { HomelabConfig, KubeObject } from '@homelab/core'
import type { IIngressRoute } from '@kubernetes-models/traefik/traefik.io/v1alpha1/IngressRoute'
import { MANIFEST_FILES, readManifest } from './manifest-files.js'
import { finishObject, setNamespace } from './object-edits.js'
import { PORTS, REGISTRY_NAMES } from './registry-names.js'

type Route = NonNullable<IIngressRoute['spec']>['routes'][number]

/** Traefik's rule language quotes with backticks; the config's host names are DNS names, so none can hold one. */
export const hostRule = (host: string) => `Host(\`${host}\`)`
export const pathPrefixRule = (prefix: string) => `PathPrefix(\`${prefix}\`)`

const route = (match: string, service: string, port: number): Route => ({ kind: 'Rule', match, services: [{ name: service, port }] })

function ingressRoute(file: typeof MANIFEST_FILES.registryRoute | typeof MANIFEST_FILES.uiRoute, config: HomelabConfig, routes: Route[], secretName: string): IIngressRoute {
  const object = setNamespace(readManifest<IIngressRoute>(file), config.registry.namespace)
  if (!object.spec) throw new ManifestError(`IngressRoute manifest ${file} has no spec`, { object: `IngressRoute ${file}`, field: 'spec' })
  object.spec.entryPoints = [config.ingress.entryPoint]
  object.spec.routes = routes
  object.spec.tls = { secretName }
  return object
}

export function renderRegistryRoute(config: HomelabConfig): KubeObject {
  const host = config.registry.hosts.registry
  const routes = [route(hostRule(host), REGISTRY_NAMES.service, PORTS.http)]
  return finishObject(ingressRoute(MANIFEST_FILES.registryRoute, config, routes, REGISTRY_NAMES.registryCertificate), 'registry')
}

/** /v2 on the UI's host goes straight to the registry: same origin for the browser, no CORS preflight to fail. */
export function renderUiRoute(config: HomelabConfig): KubeObject {
  const host = config.registry.hosts.ui
  const routes = [
    route(`${hostRule(host)} && ${pathPrefixRule('/v2')}`, REGISTRY_NAMES.service, PORTS.http),
    route(hostRule(host), REGISTRY_NAMES.ui, PORTS.ui),
  ]
  return finishObject(ingressRoute(MANIFEST_FILES.uiRoute, config, routes, REGISTRY_NAMES.uiCertificate), 'registry-ui')
}
