import { Secret, type HomelabConfig, type KubeClient } from '@homelab/core'
import { TrustMaterialError, TrustMaterialNotYetMadeError } from './errors/trust-material-error.js'
import type { RegistryTrust } from './merge-registries-yaml.js'

/**
 * What the cluster holds that every node needs: the registry login and the CA that signed its certificate (none in
 * tls.mode acme: the certificate chains to public roots the nodes already trust).
 */
export type TrustMaterial = { trust: RegistryTrust; caPem: Buffer | undefined; caSource: string }

// cert-manager also writes ca.crt into the registry's own TLS Secret, the fallback when the root CA Secret is elsewhere.
const REGISTRY_TLS_SECRET = 'registry-tls'

type SecretData = Record<string, string> | undefined

async function secretData(kube: KubeClient, namespace: string, name: string): Promise<SecretData> {
  const object = await kube.get({ apiVersion: 'v1', kind: 'Secret', namespace, name })
  return object?.['data'] as SecretData
}

const decode = (value: string) => Buffer.from(value, 'base64')

async function readCa(kube: KubeClient, config: HomelabConfig): Promise<{ pem: Buffer; source: string }> {
  const candidates = [
    { namespace: config.tls.ca.namespace, name: config.tls.ca.secretName },
    { namespace: config.registry.namespace, name: REGISTRY_TLS_SECRET },
  ]
  for (const { namespace, name } of candidates) {
    const value = (await secretData(kube, namespace, name))?.['ca.crt']
    if (value) return { pem: decode(value), source: `Secret ${namespace}/${name}` }
  }
  const tried = candidates.map((c) => `${c.namespace}/${c.name}`).join(' and ')
  throw new TrustMaterialNotYetMadeError(`no registry CA: neither Secret ${tried} has a ca.crt key`, {
    host: kube.server,
    key: 'tls.ca.secretName',
    hint: 'run the registry bootstrap first (it makes the CA), or point tls.ca.namespace/secretName at the Secret holding it',
  })
}

/** The first registry user's password: from config when given, else from the credentials Secret the registry made. */
async function readLogin(kube: KubeClient, config: HomelabConfig): Promise<{ username: string; password: Secret }> {
  const user = config.registry.users[0]
  if (!user) throw new TrustMaterialError('registry.users is empty: there is no login to give the nodes', { key: 'registry.users' })
  if (user.password) return { username: user.name, password: user.password }
  const { namespace } = config.registry
  const name = config.registry.auth.credentialsSecretName
  const stored = (await secretData(kube, namespace, name))?.[user.name]
  if (stored === undefined) {
    throw new TrustMaterialNotYetMadeError(`no password for registry user ${user.name}: Secret ${namespace}/${name} has no key ${user.name}`, {
      host: kube.server,
      key: 'registry.auth.credentialsSecretName',
      hint: 'run the registry bootstrap first: it generates the passwords and keeps them there',
    })
  }
  return { username: user.name, password: new Secret(decode(stored).toString('utf8')) }
}

/** `login`: the one the nodes get instead of the stored one (rotate-credentials hands in the new password). */
export async function readTrustMaterial(kube: KubeClient, config: HomelabConfig, login?: { username: string; password: Secret }): Promise<TrustMaterial> {
  const withCa = config.tls.mode === 'ca'
  const noCa = { pem: undefined, source: `the system trust store (tls.mode ${config.tls.mode})` }
  const [given, ca] = await Promise.all([login ?? readLogin(kube, config), withCa ? readCa(kube, config) : noCa])
  return {
    trust: { registryHost: config.registry.hosts.registry, username: given.username, password: given.password, caPath: config.nodeTrust.caPath, withCa, dockerHubMirror: config.nodeTrust.dockerHubMirror },
    caPem: ca.pem,
    caSource: ca.source,
  }
}
