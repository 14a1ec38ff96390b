import { mkdirSync } from 'node:fs'
import { createServer, type IncomingMessage, type Server, type ServerResponse } from 'node:http'
import { createServer as createHttpsServer } from 'node:https'
import { setTimeout as sleep } from 'node:timers/promises'
import { LabStateError } from '../errors/lab-state-error.js'
import { dnsmasqFiles, reloadDnsmasqHosts, restartDnsmasq, startDnsmasq, stopDnsmasq, writeDnsmasqFiles, type DnsmasqOptions } from './pihole-dnsmasq.js'
import { ftlError, type DoubleRequest, type DoubleResponse } from './pihole-exchange.js'
import { faultMatches, faultResponse, requestMatches, type FaultMatch, type PiholeFault } from './pihole-faults.js'
import { loadPiholeSpecValidator, type PiholeSpecValidator } from './pihole-openapi-validator.js'
import { PiholeRecordStore, type PiholeRecords } from './pihole-record-store.js'
import { PiholeRequestLog } from './pihole-request-log.js'
import { PiholeSessionTable, type SessionCounts } from './pihole-sessions.js'
import { ensurePiholeCertificate } from './pihole-tls.js'
import { handleV5 } from './pihole-v5-api.js'
import { handleV6, v6Operation, type DnsEffects } from './pihole-v6-api.js'

export type StartPiholeOptions = {
  /** This instance's own folder: records.json, the dnsmasq hosts file, logs, its TLS key. */
  stateDir: string
  /** A loopback address of its own, e.g. 127.0.4.1: the API on :80 (:443 with https), DNS on dnsPort. */
  ip: string
  version?: 6 | 5
  /** Absent: a Pi-hole without a password (`sid: null`). */
  password?: string
  /** An app password: it logs in, but config writes get 403 unless appSudo. */
  appPassword?: string
  appSudo?: boolean
  /** `webserver.api.max_sessions`; FTL's default is 16. */
  maxSessions?: number
  dnsPort?: number
  httpPort?: number
  /** Serve the API over HTTPS with a self-signed certificate, as FTL does on :443. */
  https?: boolean
  /**
   * Which FTL to behave like (default 6.3, which 6.4 still matches). 6.2 (6.2.3) stores `dns.hosts` verbatim instead of
   * with single spaces, and ignores `restart=false`: after every CNAME change it answers, then re-execs, refusing
   * connections for `restartMs` while DNS restarts.
   */
  ftl?: '6.2' | '6.3'
  /** How long a 6.2 re-exec keeps the API away (default 1 s; real ones take 0.3–1 s, longer on a slow Pi). */
  restartMs?: number
  /** `webserver.session.restore` (FTL's default true): false, and a 6.2 re-exec loses every session. */
  sessionRestore?: boolean
  /** Check every v6 request and response against the upstream OpenAPI files (default true). */
  validate?: boolean
}

export type PiholeDouble = {
  url: string
  version: 6 | 5
  dnsAddress: string
  dnsPort: number
  hostsFile: string
  /** PEM of the self-signed certificate (its own CA) when serving HTTPS. */
  caPem: string | undefined
  requests: PiholeRequestLog
  readonly sessions: SessionCounts
  /** Every spec violation seen; each one also made the request fail with 500. */
  readonly validationFailures: readonly string[]
  records(): PiholeRecords
  /** Records added by hand (the web UI, another tool), stored verbatim and served at once. */
  seed(records: Partial<PiholeRecords>): Promise<void>
  setFault(fault: PiholeFault | undefined): Promise<void>
  /**
   * Ends every session as `webserver.session.timeout` does: the SID then gets FTL's 401 `unauthorized` (and
   * `GET /api/auth` "session expired") until the client logs in again. With `before`, not now but just before each of
   * the next `times` (default 1; Infinity for every; 0 disarms) requests it matches: a session lost between two calls.
   */
  expireSessions(options?: { before: FaultMatch; times?: number }): void
  /** A new password, set on the Pi-hole (web UI, `pihole setpassword`): as in FTL, every session ends with the old one. */
  changePassword(password: string): void
  stop(): Promise<void>
}

type Instance = {
  version: 6 | 5
  options: StartPiholeOptions
  store: PiholeRecordStore
  sessions: PiholeSessionTable
  dns: DnsEffects
  validator: PiholeSpecValidator | undefined
  log: PiholeRequestLog
  failures: string[]
  fault: PiholeFault | undefined
  /** Armed by `expireSessions({ before })`. */
  expiry: { match: FaultMatch; remaining: number } | undefined
  /** Requests held open by a `hang` fault, ended on stop or when the fault is cleared. */
  held: Set<ServerResponse>
  /** A 6.2 re-exec in progress: stop waits for it, or it would start dnsmasq again after stop ended it. */
  reexec: Promise<void> | undefined
  stopped: boolean
}

/**
 * A Pi-hole on loopback: the v6 REST API (or v5's api.php) in this process, answering DNS through a real dnsmasq.
 * Starting on a folder a crashed run left behind stops that run's dnsmasq first and keeps its records.
 */
export async function startPihole(options: StartPiholeOptions): Promise<PiholeDouble> {
  mkdirSync(options.stateDir, { recursive: true, mode: 0o700 })
  const version = options.version ?? 6
  const dnsOptions: DnsmasqOptions = { stateDir: options.stateDir, address: options.ip, port: options.dnsPort ?? 53 }
  const store = new PiholeRecordStore(options.stateDir, options.ftl !== '6.2')
  writeDnsmasqFiles(options.stateDir, store.records, { hosts: true, cnames: true })
  await startDnsmasq(dnsOptions)
  const instance: Instance = {
    version, options, store, sessions: new PiholeSessionTable(options.maxSessions ?? 16), dns: dnsEffects(store, dnsOptions, () => instance.stopped),
    validator: version === 6 && options.validate !== false ? await loadPiholeSpecValidator() : undefined,
    log: new PiholeRequestLog(), failures: [], fault: undefined, expiry: undefined, held: new Set(), reexec: undefined, stopped: false,
  }
  const tls = options.https ? await ensurePiholeCertificate(options.stateDir, options.ip) : undefined
  const listener = (req: IncomingMessage, res: ServerResponse) => void answer(req, res, instance)
  const server = tls ? createHttpsServer({ key: tls.key, cert: tls.cert }, listener) : createServer(listener)
  const port = options.httpPort ?? (tls ? 443 : 80)
  await listen(server, port, options.ip)
  const handle = piholeHandle({ instance, server, port, dnsOptions, caPem: tls?.cert })
  instance.dns.restartFtl = () => restartFtlSoon(instance, handle, options.restartMs ?? 1000)
  return handle
}

/**
 * FTL before 6.3 after a CNAME change: its answer goes out, then it re-execs (same PID): every connection drops, new
 * ones are refused, and DNS restarts with the new records. Sessions survive (FTL keeps them on disk) unless
 * `webserver.session.restore` is off.
 */
function restartFtlSoon(instance: Instance, handle: PiholeDouble, restartMs: number): void {
  const previous = instance.reexec ?? Promise.resolve()
  instance.reexec = previous.then(async () => {
    await sleep(20)
    if (instance.stopped || instance.fault !== undefined) return
    await handle.setFault({ kind: 'down' })
    if (instance.options.sessionRestore === false) instance.sessions.forgetAll()
    await instance.dns.restartDns()
    await sleep(restartMs)
    // Unless the double was stopped, or a test switched on a fault of its own meanwhile.
    if (!instance.stopped && (instance.fault as PiholeFault | undefined)?.kind === 'down') await handle.setFault(undefined)
  }).catch(() => undefined)
}

function dnsEffects(store: PiholeRecordStore, dnsOptions: DnsmasqOptions, stopped: () => boolean): DnsEffects {
  // One dnsmasq change at a time: two restarts side by side (a 6.2 re-exec and a restartdns call, say) would each
  // start a dnsmasq, and the one the pid file forgets would outlive the double. None once the double is stopped.
  let queue: Promise<unknown> = Promise.resolve()
  const serial = (work: () => Promise<void>): Promise<void> => {
    const run = queue.then(() => (stopped() ? undefined : work()))
    queue = run.catch(() => undefined)
    return run
  }
  return {
    hostsChanged: () => serial(async () => {
      writeDnsmasqFiles(dnsOptions.stateDir, store.records, { hosts: true, cnames: false })
      await reloadDnsmasqHosts(dnsOptions)
    }),
    // Stored, not served: the cname= lines are only rewritten at the next restart.
    cnamesPending: () => undefined,
    // Set once the server exists (startPihole).
    restartFtl: () => undefined,
    restartDns: () => serial(async () => {
      writeDnsmasqFiles(dnsOptions.stateDir, store.records, { hosts: true, cnames: true })
      await restartDnsmasq(dnsOptions)
    }),
    settled: () => queue.then(() => undefined),
  }
}

function listen(server: Server, port: number, ip: string): Promise<void> {
  return new Promise((resolve, reject) => {
    const failed = (error: NodeJS.ErrnoException) =>
      reject(new LabStateError(`cannot serve the Pi-hole double on ${ip}:${port}: ${error.code ?? error.message}`, { host: `${ip}:${port}`, cause: error, hint: 'another Pi-hole double (or program) holds that address; give each instance its own ip' }))
    server.once('error', failed)
    server.listen(port, ip, () => {
      server.off('error', failed)
      resolve()
    })
  })
}

type HandleParts = { instance: Instance; server: Server; port: number; dnsOptions: DnsmasqOptions; caPem: string | undefined }

function piholeHandle({ instance, server, port, dnsOptions, caPem }: HandleParts): PiholeDouble {
  const { options } = instance
  const scheme = options.https ? 'https' : 'http'
  const defaultPort = options.https ? 443 : 80
  let stopped = false
  const release = () => {
    for (const res of instance.held) res.destroy()
    instance.held.clear()
  }
  const close = () => new Promise<void>((resolve) => {
    server.close(() => resolve())
    server.closeAllConnections()
  })
  return {
    url: `${scheme}://${options.ip}${port === defaultPort ? '' : `:${port}`}`,
    version: instance.version,
    dnsAddress: options.ip,
    dnsPort: dnsOptions.port,
    hostsFile: dnsmasqFiles(options.stateDir).hostsFile,
    caPem,
    requests: instance.log,
    get sessions() {
      return instance.sessions.counts
    },
    get validationFailures() {
      return [...instance.failures]
    },
    records: () => instance.store.records,
    seed: async (records) => {
      instance.store.seed(records)
      await instance.dns.restartDns()
    },
    setFault: async (fault) => {
      const wasDown = instance.fault?.kind === 'down'
      instance.fault = fault
      release()
      if (fault?.kind === 'down' && !wasDown) await close()
      if (fault?.kind !== 'down' && wasDown) await listen(server, port, options.ip)
    },
    changePassword: (password) => {
      instance.options = { ...instance.options, password }
      instance.sessions.forgetAll()
    },
    expireSessions: (expiry) => {
      if (!expiry) return instance.sessions.expireAll()
      instance.expiry = (expiry.times ?? 1) > 0 ? { match: expiry.before, remaining: expiry.times ?? 1 } : undefined
    },
    stop: async () => {
      if (stopped) return
      stopped = true
      instance.stopped = true
      await instance.reexec
      await instance.dns.settled()
      release()
      if (server.listening) await close()
      await stopDnsmasq(dnsOptions)
    },
  }
}

async function answer(req: IncomingMessage, res: ServerResponse, instance: Instance): Promise<void> {
  const chunks: Buffer[] = []
  for await (const chunk of req) chunks.push(chunk as Buffer)
  const url = new URL(req.url ?? '/', 'http://pi.hole')
  const method = req.method ?? 'GET'
  expireSessionsIfArmed(instance, method, url.pathname)
  const fault = instance.fault
  let response: DoubleResponse
  if (fault && faultMatches(fault, method, url.pathname)) {
    if (fault.kind === 'hang') return void instance.held.add(res)
    if (fault.kind === 'body') {
      instance.log.record({ method, path: decodeURIComponent(url.pathname), queryKeys: [...url.searchParams.keys()], status: fault.status ?? 200 })
      return void res.writeHead(fault.status ?? 200, { 'content-type': 'application/json' }).end(fault.body)
    }
    response = faultResponse(fault.kind === 'status' ? fault.status : 500)
  } else {
    const request: DoubleRequest = { method, url, headers: req.headers, body: parseBody(Buffer.concat(chunks).toString('utf8')) }
    response = await exchange(request, instance).catch((error: unknown) => ftlError(500, 'lab_error', `the Pi-hole double failed: ${(error as Error).message}`))
  }
  const path = decodeURIComponent(url.pathname)
  instance.log.record({ method, path, queryKeys: [...url.searchParams.keys()], ...(url.searchParams.has('action') ? { action: url.searchParams.get('action')! } : {}), status: response.status })
  send(res, response)
}

function expireSessionsIfArmed(instance: Instance, method: string, path: string): void {
  const expiry = instance.expiry
  if (!expiry || !requestMatches(expiry.match, method, path)) return
  instance.sessions.expireAll()
  if (--expiry.remaining <= 0) instance.expiry = undefined
}

function parseBody(text: string): unknown {
  if (text === '') return undefined
  try {
    return JSON.parse(text)
  } catch {
    // Not JSON: handed on as text, which FTL answers with its "no valid JSON" error.
    return text
  }
}

function send(res: ServerResponse, response: DoubleResponse): void {
  if (response.json !== undefined) {
    res.writeHead(response.status, { 'content-type': 'application/json' }).end(JSON.stringify(response.json))
  } else if (response.text !== undefined) {
    res.writeHead(response.status, { 'content-type': 'text/html' }).end(response.text)
  } else res.writeHead(response.status).end()
}

/** v6: the request is checked against the spec before it can change anything, the response before it is sent. */
async function exchange(request: DoubleRequest, instance: Instance): Promise<DoubleResponse> {
  if (instance.version === 5) return handleV5(request, { password: instance.options.password, store: instance.store, dns: instance.dns })
  const ctx = {
    options: { password: instance.options.password, appPassword: instance.options.appPassword, appSudo: instance.options.appSudo ?? false, ftl: instance.options.ftl ?? '6.3' },
    sessions: instance.sessions, store: instance.store, dns: instance.dns,
  }
  const validator = instance.validator
  if (!validator) return handleV6(request, ctx)
  const { method, url } = request
  const op = v6Operation(method, url.pathname)
  // `/admin/…` is the web server's, not the REST API's: the spec does not cover it.
  if (!op && !url.pathname.startsWith('/admin/')) return specViolation(instance, [`${method} ${url.pathname}: no operation in the spec`])
  const headers = Object.fromEntries(Object.entries(request.headers).map(([k, v]) => [k, Array.isArray(v) ? v.join(', ') : (v ?? '')]))
  const query = Object.fromEntries(url.searchParams)
  const requestErrors = op ? validator.validateRequest({ ...op, method, path: op.specPath, query, headers, body: request.body }) : []
  if (requestErrors.length > 0) return specViolation(instance, requestErrors)
  const response = await handleV6(request, ctx)
  const responseErrors = op ? validator.validateResponse(op.operationId, response.status, response.json) : []
  return responseErrors.length > 0 ? specViolation(instance, responseErrors) : response
}

/** Loud on purpose: a 500 the client will report, and a record the test asserts is empty. */
function specViolation(instance: Instance, errors: string[]): DoubleResponse {
  instance.failures.push(...errors)
  return ftlError(500, 'lab_spec_violation', 'request or response does not match the Pi-hole OpenAPI spec', errors.join('; '))
}
