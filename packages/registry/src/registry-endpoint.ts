import { describeRef, retryPolicyFromConfig, Secret, type HomelabConfig, type KubeClient, type ObjectRef } from '@homelab/core'
import { createDistributionClient, type BasicAuth, type DistributionClient, type DistributionClientOptions } from './distribution-client.js'
import { RegistryVerifyError } from './errors/registry-verify-error.js'
import { REGISTRY_NAMES } from './registry-names.js'
import { storedSecretValue } from './registry-credentials.js'

/**
 * How the tool reaches the registry from outside the cluster: its host names, the ingress IP to connect to for them
 * (so nothing depends on DNS), and the CA to trust instead of the system roots (undefined in acme mode).
 */
export type RegistryEndpoint = { host: string; uiHost: string; connectTo: string; ca: string | undefined; caSource: string }

const secretRef = (namespace: string, name: string): ObjectRef => ({ apiVersion: 'v1', kind: 'Secret', namespace, name })

/** config ingress.ip, else the Traefik Service's LoadBalancer IP, as K3s's service LB publishes it. */
export async function ingressIp(kube: KubeClient, config: HomelabConfig): Promise<string> {
  if (config.ingress.ip) return config.ingress.ip
  const ref: ObjectRef = { apiVersion: 'v1', kind: 'Service', ...config.ingress.traefikService }
  const service = await kube.get(ref)
  const ip = (service?.['status'] as { loadBalancer?: { ingress?: { ip?: string }[] } } | undefined)?.loadBalancer?.ingress?.find((i) => i.ip)?.ip
  if (ip) return ip
  throw new RegistryVerifyError(`ingress.ip is not set and ${describeRef(ref)} ${service ? 'has no LoadBalancer IP' : 'does not exist'}, so the registry cannot be reached without DNS`, {
    key: 'ingress.ip',
    hint: 'set ingress.ip in homelab.yaml to the Traefik load balancer address, or ingress.traefikService to the Service that has it',
  })
}

/**
 * The homelab CA: the root Secret the nodes are given (tls.ca.secretName), else the ca.crt cert-manager put next to the
 * registry's certificate. In acme mode the certificate chains to public roots, so there is none.
 */
export async function homelabCa(kube: KubeClient, config: HomelabConfig): Promise<{ pem: string | undefined; source: string }> {
  if (config.tls.mode !== 'ca') return { pem: undefined, source: 'the system trust store (tls.mode acme)' }
  const candidates: [ObjectRef, string][] = [
    [secretRef(config.tls.ca.namespace, config.tls.ca.secretName), 'ca.crt'],
    [secretRef(config.tls.ca.namespace, config.tls.ca.secretName), 'tls.crt'],
    [secretRef(config.registry.namespace, REGISTRY_NAMES.registryCertificate), 'ca.crt'],
  ]
  for (const [ref, key] of candidates) {
    const pem = await storedSecretValue(kube, { name: ref.name, namespace: ref.namespace! }, key)
    if (pem?.includes('BEGIN CERTIFICATE')) return { pem, source: `${describeRef(ref)} key ${key}` }
  }
  throw new RegistryVerifyError(`no homelab CA certificate in ${describeRef(candidates[0]![0])} or ${describeRef(candidates[2]![0])}`, {
    key: 'tls.ca.secretName',
    hint: 'run the registry bootstrap (it creates the CA chain) and check that cert-manager issued it: kubectl describe certificate -A',
  })
}

export async function registryEndpoint(kube: KubeClient, config: HomelabConfig): Promise<RegistryEndpoint> {
  const [connectTo, ca] = await Promise.all([ingressIp(kube, config), homelabCa(kube, config)])
  return { host: config.registry.hosts.registry, uiHost: config.registry.hosts.ui, connectTo, ca: ca.pem, caSource: ca.source }
}

/**
 * Every configured user's password, read only: from config, else the credentials Secret. Unlike bootstrap, nothing is
 * generated, since verify must not invent a password the registry has never seen.
 */
export async function storedRegistryPasswords(kube: KubeClient, registry: HomelabConfig['registry']): Promise<BasicAuth[]> {
  const out: BasicAuth[] = []
  for (const user of registry.users) {
    const stored = user.password ?? (await storedSecretValue(kube, { name: registry.auth.credentialsSecretName, namespace: registry.namespace }, user.name))
    if (stored === undefined) {
      throw new RegistryVerifyError(`no password for registry user ${user.name}: not in config and not in Secret ${registry.namespace}/${registry.auth.credentialsSecretName}`, {
        key: 'registry.users',
        hint: 'run the registry bootstrap, which generates and stores it',
      })
    }
    out.push({ username: user.name, password: stored instanceof Secret ? stored : new Secret(stored) })
  }
  return out
}

/** A Distribution client for `host` (the registry's or the UI's), connecting to the ingress IP and trusting only the CA. */
export function endpointClient(endpoint: RegistryEndpoint, config: HomelabConfig, options: { host?: string; auth?: BasicAuth; dispatcher?: DistributionClientOptions['dispatcher'] } = {}): DistributionClient {
  const host = options.host ?? endpoint.host
  return createDistributionClient({
    baseUrl: `https://${host}`,
    ca: endpoint.ca,
    resolve: { [host]: endpoint.connectTo },
    timeoutMs: config.timeouts.http.milliseconds,
    retries: retryPolicyFromConfig(config.retries),
    auth: options.auth,
    ...(options.dispatcher ? { dispatcher: options.dispatcher } : {}),
  })
}
