import { connect, type PeerCertificate } from 'node:tls'
import { RegistryVerifyError } from './errors/registry-verify-error.js'

export type TlsTarget = {
  /** The name the certificate must carry (SNI too). */
  host: string
  /** The IP to connect to: the ingress, so no DNS is needed. */
  connectTo: string
  port?: number
  /** PEM to trust instead of the system roots; undefined: the system roots. */
  ca: string | undefined
  /** Where the CA came from, for messages. */
  caSource: string
  timeoutMs: number
}

export type ServedCertificate = { subject: string; issuer: string; validTo: string }

const nameOf = (part: PeerCertificate['subject'] | undefined) => (part?.CN ? `CN=${part.CN}` : JSON.stringify(part ?? {}))

function handshake(target: TlsTarget, verify: boolean): Promise<PeerCertificate> {
  return new Promise((resolve, reject) => {
    const socket = connect({
      host: target.connectTo, port: target.port ?? 443, servername: target.host, rejectUnauthorized: verify,
      ...(target.ca === undefined ? {} : { ca: target.ca }), timeout: target.timeoutMs,
    })
    socket.once('secureConnect', () => {
      const certificate = socket.getPeerCertificate()
      socket.end()
      resolve(certificate)
    })
    socket.once('timeout', () => socket.destroy(Object.assign(new Error(`no TLS handshake within ${target.timeoutMs} ms`), { code: 'ETIMEDOUT' })))
    socket.once('error', reject)
  })
}

/**
 * A TLS handshake with `host` at the ingress IP that trusts only the given CA. A certificate that does not chain to it
 * (or does not name the host) fails with what was served instead, read by a second, non-verifying handshake whose
 * certificate is only described, never trusted.
 */
export async function checkTlsChain(target: TlsTarget): Promise<ServedCertificate> {
  const where = `${target.host} at ${target.connectTo}:${target.port ?? 443}`
  try {
    const certificate = await handshake(target, true)
    return { subject: nameOf(certificate.subject), issuer: nameOf(certificate.issuer), validTo: certificate.valid_to }
  } catch (error) {
    const code = (error as NodeJS.ErrnoException).code ?? ''
    if (!/CERT|SIGNATURE|SELF_SIGNED|ISSUER|ALTNAME/.test(code)) {
      throw new RegistryVerifyError(`no TLS handshake with ${where}: ${(error as Error).message}`, { host: target.host, cause: error, hint: 'check ingress.ip (or the Traefik Service) and that Traefik listens on 443' })
    }
    const served = await handshake(target, false).then((c) => `${nameOf(c.subject)} issued by ${nameOf(c.issuer)}`, (e: Error) => `unreadable (${e.message})`)
    throw new RegistryVerifyError(`the certificate served for ${where} is not trusted with the homelab CA from ${target.caSource} (${code}); served: ${served}`, {
      host: target.host,
      cause: error,
      hint: 'check that the registry Certificate is Ready and names this host (kubectl describe certificate -n <registry.namespace>) and that its IngressRoute uses it as tls.secretName; a TRAEFIK DEFAULT CERT means no route had a certificate for this name; another issuer means something else serves a certificate for this name (another IngressRoute\'s tls.secretName, or a TLSStore): find it with `kubectl get ingressroute -A` and remove it or its tls',
    })
  }
}
