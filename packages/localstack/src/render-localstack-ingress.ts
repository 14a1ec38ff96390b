import type { HomelabConfig, KubeObject } from '@homelab/core'
import type { ICertificate } from '@kubernetes-models/cert-manager/cert-manager.io/v1/Certificate'
import type { IIngressRoute } from '@kubernetes-models/traefik/traefik.io/v1alpha1/IngressRoute'
import { MANIFEST_FILES, readManifest } from './manifest-files.js'
import { GATEWAY_PORT, NAMES } from './localstack-names.js'

const escapeRegExp = (text: string) => text.replace(/[.*+?^${}()|[\]\\]/g, '\\$&')

/** The names the certificate covers: the host, and `*.s3.<host>` when buckets are addressed as subdomains. */
export function certificateNames(config: HomelabConfig): string[] {
  const host = config.localstack.host
  return config.localstack.s3.virtualHostStyle ? [host, `*.s3.${host}`] : [host]
}

export function renderCertificate(config: HomelabConfig): KubeObject {
  const certificate = readManifest<ICertificate>(MANIFEST_FILES.certificate)
  certificate.metadata = { ...certificate.metadata, name: NAMES.certificate, namespace: config.localstack.namespace }
  certificate.spec = {
    ...certificate.spec,
    secretName: NAMES.tlsSecret,
    dnsNames: certificateNames(config),
    issuerRef: { group: 'cert-manager.io', kind: config.tls.issuer.kind, name: config.tls.issuer.name },
  }
  return certificate as KubeObject
}

function route(file: typeof MANIFEST_FILES.ingressRoute | typeof MANIFEST_FILES.s3VirtualHostRoute, name: string, match: string, config: HomelabConfig): KubeObject {
  const ingressRoute = readManifest<IIngressRoute>(file)
  ingressRoute.metadata = { ...ingressRoute.metadata, name, namespace: config.localstack.namespace }
  ingressRoute.spec = {
    ...ingressRoute.spec,
    entryPoints: [config.ingress.entryPoint],
    routes: [{ kind: 'Rule', match, services: [{ name: NAMES.service, port: GATEWAY_PORT }] }],
    tls: { secretName: NAMES.tlsSecret },
  }
  return ingressRoute as unknown as KubeObject
}

/** Every path on the host to the gateway, with no middleware: LocalStack needs the path and Host as the client sent them. */
export function renderIngressRoute(config: HomelabConfig): KubeObject {
  return route(MANIFEST_FILES.ingressRoute, NAMES.ingressRoute, `Host(\`${config.localstack.host}\`)`, config)
}

/** Only with `localstack.s3.virtualHostStyle`. Traefik v3 HostRegexp syntax (a plain regular expression). */
export function renderS3VirtualHostRoute(config: HomelabConfig): KubeObject | undefined {
  if (!config.localstack.s3.virtualHostStyle) return undefined
  const match = `HostRegexp(\`^[a-z0-9][a-z0-9.-]*\\.s3\\.${escapeRegExp(config.localstack.host)}$\`)`
  return route(MANIFEST_FILES.s3VirtualHostRoute, NAMES.s3VirtualHostRoute, match, config)
}
