import { createSecureContext, type SecureContext } from 'node:tls'
import { X509Certificate } from 'node:crypto'
import { request as httpRequest, type IncomingMessage, type ServerResponse } from 'node:http'
import { createServer, type Server } from 'node:https'
import { LabStateError } from '../errors/lab-state-error.js'
import type { ClusterSnapshot } from './cluster-snapshot.js'
import type { ControllerLog } from './controller-log.js'
import { keyOf } from './kube-objects.js'
import type { ServiceAddress } from './service-addresses.js'
import { buildRouteTable, matchRoute, type RouteTable } from './traefik-routes.js'

type ServedCertificate = { resourceVersion: string; createdAt: string; names: string[]; context: SecureContext }

const HOP_BY_HOP = new Set(['connection', 'keep-alive', 'proxy-connection', 'te', 'trailer', 'upgrade', 'proxy-authorization'])

/** Pure. Whether a certificate name (possibly `*.domain`) covers the SNI name. */
export function nameCovers(name: string, serverName: string): boolean {
  const [n, s] = [name.toLowerCase(), serverName.toLowerCase()]
  if (!n.startsWith('*.')) return n === s
  const rest = s.split('.').slice(1).join('.')
  return rest === n.slice(2) && s.split('.').length > 2
}

function dnsNames(certPem: string): string[] {
  const san = new X509Certificate(certPem).subjectAltName ?? ''
  return san.split(', ').filter((entry) => entry.startsWith('DNS:')).map((entry) => entry.slice(4))
}

/**
 * Traefik's websecure entry point on the lab's LoadBalancer IP: TLS with the certificate whose names cover the SNI
 * (from the IngressRoutes' `tls.secretName`, reloaded when the Secret changes; Traefik's self-signed default cert
 * otherwise), routing by the IngressRoutes' rules to pod IPs, streaming both ways.
 */
export class TraefikDouble {
  readonly ip: string
  readonly #log: ControllerLog
  readonly #server: Server
  #table: RouteTable = { routes: [], tlsSecrets: [], problems: [] }
  readonly #certificates = new Map<string, ServedCertificate>()

  constructor(options: { ip: string; defaultCert: string; defaultKey: string; log: ControllerLog }) {
    this.ip = options.ip
    this.#log = options.log
    this.#server = createServer({
      cert: options.defaultCert, key: options.defaultKey, requestTimeout: 0,
      SNICallback: (serverName, done) => done(null, this.#contextFor(serverName)),
    }, (req, res) => this.#handle(req, res))
  }

  listen(port = 443): Promise<void> {
    return new Promise((resolve, reject) => {
      this.#server.once('error', (error: NodeJS.ErrnoException) => reject(new LabStateError(`Traefik double cannot listen on ${this.ip}:${port}: ${error.message}`, {
        host: this.ip, cause: error, hint: error.code === 'EADDRINUSE' ? `another program holds ${this.ip}:${port}; stop it or set HOMELAB_LAB_TRAEFIK_IP` : undefined,
      })))
      this.#server.listen(port, this.ip, () => resolve())
    })
  }

  close(): Promise<void> {
    this.#server.closeAllConnections()
    return new Promise((resolve) => this.#server.close(() => resolve()))
  }

  /** Rebuilds the routes and reloads the certificates whose Secret changed. */
  update(snapshot: ClusterSnapshot, addresses: readonly ServiceAddress[]): void {
    this.#table = buildRouteTable(snapshot, addresses)
    this.#log.once('traefik problems', this.#table.problems.length ? `traefik: ${this.#table.problems.join('; ')}` : 'traefik: every IngressRoute routes')
    const wanted = new Set<string>()
    for (const { namespace, name } of this.#table.tlsSecrets) {
      const key = keyOf(namespace, name)
      wanted.add(key)
      const secret = snapshot.secrets.get(key)
      const [cert, tlsKey] = [secret?.data?.['tls.crt'], secret?.data?.['tls.key']]
      if (!secret || !cert || !tlsKey) {
        this.#log.once(`traefik tls ${key}`, `traefik: TLS Secret ${key} not there yet; serving the default certificate`)
        continue
      }
      if (this.#certificates.get(key)?.resourceVersion === secret.metadata.resourceVersion) continue
      const certPem = Buffer.from(cert, 'base64').toString('utf8')
      try {
        const context = createSecureContext({ cert: certPem, key: Buffer.from(tlsKey, 'base64').toString('utf8') })
        const createdAt = secret.metadata.creationTimestamp ?? ''
        this.#certificates.set(key, { resourceVersion: secret.metadata.resourceVersion ?? '', createdAt, names: dnsNames(certPem), context })
        this.#log.info(`traefik: serving ${key} for ${dnsNames(certPem).join(', ')}`)
      } catch (error) {
        this.#log.failure(`traefik tls ${key}`, `traefik: TLS Secret ${key} holds no usable key pair`, error)
      }
    }
    for (const key of this.#certificates.keys()) if (!wanted.has(key)) this.#certificates.delete(key)
  }

  /** Several Secrets may cover one name (a shared lab keeps other tests' objects): the newest wins, so a fresh setup is served. */
  #contextFor(serverName: string): SecureContext | undefined {
    const covering = [...this.#certificates.values()].filter((served) => served.names.some((n) => nameCovers(n, serverName)))
    covering.sort((a, b) => b.createdAt.localeCompare(a.createdAt))
    return covering[0]?.context // none: the server's own (default) certificate
  }

  #handle(req: IncomingMessage, res: ServerResponse): void {
    const host = req.headers.host ?? ''
    const path = (req.url ?? '/').split('?')[0] ?? '/'
    const route = matchRoute(this.#table, { host, path, method: req.method ?? 'GET' })
    if (!route) return void res.writeHead(404, { 'content-type': 'text/plain; charset=utf-8' }).end('404 page not found\n')
    if (!route.backend) return void res.writeHead(503, { 'content-type': 'text/plain; charset=utf-8' }).end('no available server\n')
    this.#proxy(req, res, route.backend, host)
  }

  #proxy(req: IncomingMessage, res: ServerResponse, backend: { host: string; port: number }, host: string): void {
    const client = req.socket.remoteAddress ?? ''
    const headers: Record<string, string | string[]> = {}
    for (const [name, value] of Object.entries(req.headers)) if (value !== undefined && !HOP_BY_HOP.has(name)) headers[name] = value
    const forwardedFor = req.headers['x-forwarded-for']
    Object.assign(headers, {
      'x-forwarded-for': forwardedFor ? `${forwardedFor}, ${client}` : client, 'x-forwarded-host': host, 'x-forwarded-port': '443',
      'x-forwarded-proto': 'https', 'x-forwarded-server': 'homelab-lab-traefik', 'x-real-ip': client,
    })
    const upstream = httpRequest({ host: backend.host, port: backend.port, method: req.method, path: req.url, headers }, (answer) => {
      const raw = answer.rawHeaders
      const kept: string[] = []
      for (let i = 0; i + 1 < raw.length; i += 2) if (!HOP_BY_HOP.has((raw[i] ?? '').toLowerCase())) kept.push(raw[i] ?? '', raw[i + 1] ?? '')
      res.writeHead(answer.statusCode ?? 502, kept)
      answer.pipe(res)
    })
    upstream.on('error', (error) => {
      this.#log.once(`traefik backend ${backend.host}:${backend.port}`, `traefik: backend ${backend.host}:${backend.port} failed: ${error.message}`)
      if (!res.headersSent) res.writeHead(502, { 'content-type': 'text/plain; charset=utf-8' }).end('Bad Gateway\n')
      else res.destroy()
    })
    req.on('aborted', () => upstream.destroy())
    req.pipe(upstream)
  }
}
