import { createHttpClient, retryPolicyFromConfig, type HomelabConfig, type HttpClient, type Secret, type ToolContext } from '@homelab/core'
import { resolveIngressIp } from '@homelab/dns'
import { readTrustMaterial } from '@homelab/node-trust'
import { RegistryLoginError } from './errors/registry-login-error.js'

export type RegistryLogin = { username: string; password: Secret }

/** The registry as a client outside the cluster sees it: its host through Traefik, trusted with the homelab CA. */
export type RegistryEndpoint = {
  host: string
  ingressIp: string
  /** The homelab CA; none in tls.mode acme (public roots). */
  caPem: Buffer | undefined
  /** The login nodes get (registry.users[0], its password from config or the credentials Secret). */
  login: RegistryLogin
  /** `namespace/name` of the htpasswd Secret the registry mounts (registry.auth.secretName), for hints. */
  htpasswdSecret: string
  client(login: RegistryLogin | undefined): HttpClient
}

export async function registryEndpoint(ctx: ToolContext): Promise<RegistryEndpoint> {
  const kube = ctx.kube()
  const [{ ip }, material] = await Promise.all([resolveIngressIp(ctx.config, () => kube), readTrustMaterial(kube, ctx.config)])
  const host = ctx.config.registry.hosts.registry
  return {
    host,
    ingressIp: ip,
    caPem: material.caPem,
    login: { username: material.trust.username, password: material.trust.password },
    htpasswdSecret: `${ctx.config.registry.namespace}/${ctx.config.registry.auth.secretName}`,
    client: (login) =>
      createHttpClient({
        baseUrl: `https://${host}`,
        ...(material.caPem ? { ca: material.caPem } : {}),
        resolve: { [host]: ip },
        timeoutMs: ctx.config.timeouts.http.milliseconds,
        retries: retryPolicyFromConfig(ctx.config.retries),
        ...(login ? { headers: { authorization: basicAuth(login) } } : {}),
      }),
  }
}

// The header is built at the last moment and only handed to the HTTP client: never logged, never in a message.
const basicAuth = (login: RegistryLogin) => `Basic ${Buffer.from(`${login.username}:${login.password.reveal()}`).toString('base64')}`

/** GET /v2/ with this login: true when the registry lets it in, false on 401, an error on anything else. */
export async function loginAccepted(endpoint: RegistryEndpoint, login: RegistryLogin): Promise<boolean> {
  const client = endpoint.client(login)
  try {
    const response = await client.request('GET', '/v2/', { expect: [200, 401] })
    return response.status === 200
  } finally {
    await client.close()
  }
}

export const registryHint = (config: HomelabConfig) =>
  `check the registry: kubectl -n ${config.registry.namespace} get deploy,pods; and that ${config.registry.hosts.registry} routes through Traefik`

export function loginRefused(endpoint: RegistryEndpoint, login: RegistryLogin, expected: 'accepted' | 'rejected'): RegistryLoginError {
  return new RegistryLoginError(`registry ${endpoint.host}: the login of ${login.username} was ${expected === 'accepted' ? 'refused (401)' : 'still accepted'}`, {
    host: endpoint.host,
    hint: expected === 'accepted' ? `the htpasswd Secret ${endpoint.htpasswdSecret} does not match the credentials Secret yet; wait a few seconds and re-run` : `the registry still reads an old htpasswd; check that the Secret ${endpoint.htpasswdSecret} was updated and the pod re-read it`,
  })
}
