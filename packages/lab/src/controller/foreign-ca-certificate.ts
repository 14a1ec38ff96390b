import { randomBytes } from 'node:crypto'
import { mkdtempSync, rmSync } from 'node:fs'
import { tmpdir } from 'node:os'
import { join } from 'node:path'
import { connect } from 'node:tls'
import { setTimeout as sleep } from 'node:timers/promises'
import { DEFAULT_TRAEFIK_IP } from '../api-server.js'
import { LabStateError } from '../errors/lab-state-error.js'
import { KubeRestClient } from './kube-rest-client.js'
import { caSignedCertificate, selfSignedCertificate } from './openssl-certificates.js'

export type ForeignCaCertificate = {
  /** The CA that signed what the front now serves for the host: trusted by nobody in the lab. */
  caName: string
  caPem: string
  /** Deletes the Secret and IngressRoute and waits until the front serves the host's own certificate again. */
  remove(): Promise<void>
}

export type ForeignCaOptions = { host: string; traefikIp?: string; timeoutMs?: number }

const NAME = 'foreign-ca-tls'

/** The issuer CN of the certificate the front serves for `host`, read without trusting it. */
function servedIssuer(traefikIp: string, host: string): Promise<string> {
  return new Promise((resolve, reject) => {
    const socket = connect({ host: traefikIp, port: 443, servername: host, rejectUnauthorized: false, timeout: 3000 })
    socket.once('secureConnect', () => {
      const issuer = socket.getPeerCertificate().issuer?.CN ?? ''
      socket.end()
      resolve(String(issuer))
    })
    socket.once('timeout', () => socket.destroy(new Error(`no TLS handshake with ${traefikIp}:443 within 3 s`)))
    socket.once('error', reject)
  })
}

async function waitForIssuer(options: Required<ForeignCaOptions>, want: (issuer: string) => boolean, what: string): Promise<void> {
  let seen = 'nothing yet'
  for (const deadline = Date.now() + options.timeoutMs; Date.now() < deadline; await sleep(200)) {
    seen = await servedIssuer(options.traefikIp, options.host).catch((error: Error) => `no handshake (${error.message})`)
    if (want(seen)) return
  }
  throw new LabStateError(`the lab's Traefik front did not ${what} for ${options.host} within ${options.timeoutMs / 1000}s (its issuer: ${seen})`, {
    hint: 'is the lab controller running? `pnpm lab status`; its log says which Secrets Traefik serves',
  })
}

/**
 * Test hook: the lab's Traefik front serves `host` a certificate signed by a CA of its own, as a real Traefik does when
 * a second IngressRoute names a TLS Secret from another issuer for the same host. It is made of cluster objects (a
 * namespace with a `kubernetes.io/tls` Secret and an IngressRoute whose only route never wins), because the Traefik
 * double rereads Secrets every pass and serves the newest one covering a name: no controller restart, on or off.
 * Returns once the front serves it; `remove()` returns once it serves the host's own certificate again.
 */
export async function serveCertificateFromAnotherCa(stateDir: string, options: ForeignCaOptions): Promise<ForeignCaCertificate> {
  const settings = { traefikIp: DEFAULT_TRAEFIK_IP, timeoutMs: 30_000, ...options }
  const suffix = randomBytes(4).toString('hex')
  const caName = `lab foreign CA ${suffix}`
  const namespace = `lab-foreign-ca-${suffix}`
  const scratch = mkdtempSync(join(tmpdir(), 'lab-foreign-ca-'))
  const client = KubeRestClient.forLab(stateDir)
  try {
    const ca = await selfSignedCertificate({ commonName: caName, dnsNames: [], isCA: true, days: 2 }, scratch)
    const leaf = await caSignedCertificate({ commonName: options.host, dnsNames: [options.host], isCA: false, days: 2 }, ca, scratch)
    const base64 = (text: string) => Buffer.from(text).toString('base64')
    await client.create('/api/v1/namespaces', { apiVersion: 'v1', kind: 'Namespace', metadata: { name: namespace } })
    await client.create(`/api/v1/namespaces/${namespace}/secrets`, {
      apiVersion: 'v1', kind: 'Secret', type: 'kubernetes.io/tls', metadata: { name: NAME, namespace },
      data: { 'tls.crt': base64(leaf.certPem), 'tls.key': base64(leaf.keyPem), 'ca.crt': base64(ca.certPem) },
    })
    // Priority 1: this route never takes a request from the host's own, longer rule; only its certificate competes.
    await client.create(`/apis/traefik.io/v1alpha1/namespaces/${namespace}/ingressroutes`, {
      apiVersion: 'traefik.io/v1alpha1', kind: 'IngressRoute', metadata: { name: NAME, namespace },
      spec: { entryPoints: ['websecure'], routes: [{ match: `Host(\`${options.host}\`)`, kind: 'Rule', priority: 1, services: [{ name: NAME, port: 443 }] }], tls: { secretName: NAME } },
    })
    await waitForIssuer(settings, (issuer) => issuer === caName, 'serve the foreign certificate')
    return {
      caName,
      caPem: ca.certPem,
      remove: async () => {
        const cleanup = KubeRestClient.forLab(stateDir)
        try {
          await cleanup.delete(`/apis/traefik.io/v1alpha1/namespaces/${namespace}/ingressroutes/${NAME}`)
          await cleanup.delete(`/api/v1/namespaces/${namespace}/secrets/${NAME}`)
          await cleanup.delete(`/api/v1/namespaces/${namespace}`)
        } finally {
          cleanup.close()
        }
        await waitForIssuer(settings, (issuer) => issuer !== caName && !issuer.startsWith('no handshake'), 'stop serving the foreign certificate')
      },
    }
  } finally {
    client.close()
    rmSync(scratch, { recursive: true, force: true })
  }
}
