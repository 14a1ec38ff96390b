import { setTimeout as sleep } from 'node:timers/promises'
import type { HttpRequestOptions, HttpResponse, Secret } from '@homelab/core'
import { cnameEntryText, hostEntryText, parseCnameEntry, parseHostEntry, type DnsRecord, type PiholeEntry } from './dns-record.js'
import { PiholeError } from './errors/pihole-error.js'
import type { PiholeClient, PiholeSession } from './pihole-client.js'
import { jsonOrUndefined, piholeRequest, statusError, unexpectedV6Body, v6Json, type FtlErrorBody, type PiholeTarget } from './pihole-request.js'

export type PiholeV6Options = PiholeTarget & {
  password: Secret | undefined
  /** How long to wait after FTL's login rate limit (3 a second) before the one retry. */
  loginRetryDelayMs?: number
  signal?: AbortSignal
  /** Told when FTL ended the session mid-run and the client logged in again: the output says so. */
  onNotice?: (message: string) => void
}

type AuthReply = { session?: { valid?: boolean; sid?: string | null; message?: string | null }; error?: { key?: string } }

/**
 * Pi-hole v6's REST API (FTL ≥ 6.0). A session is a login: `open()` logs in, `end()` logs out the login in use then,
 * which is a newer one when FTL ended the first meanwhile (see `authorised`).
 */
export function piholeV6Client(options: PiholeV6Options): PiholeClient {
  return {
    url: options.url,
    configKey: options.configKey,
    version: 'v6',
    async open() {
      const login = v6Login(options, await logIn(options))
      const restarts = ftlRestarts(options)
      return { session: sessionApi(options, login, restarts), end: () => restarts.through(() => logout(options, login.sid)) }
    },
    close: () => options.http.close(),
  }
}

/** A login: its SID (null when the Pi-hole has no password) and whether the password was an app password. */
type V6Session = { sid: string | null; app: boolean }

async function logIn(options: PiholeV6Options): Promise<V6Session> {
  // The password travels only here, in the body: never in a URL, header or message.
  const json = { password: options.password?.reveal() ?? '' }
  for (let attempt = 1; ; attempt++) {
    const response = await piholeRequest(options, 'POST', '/api/auth', { json, expect: [200, 400, 401, 403, 429] })
    // FTL answers every login with JSON; a 200 that is not a session is some other web server.
    const body = response.status === 200 ? v6Json<AuthReply>(options, 'POST', '/api/auth', response) : jsonOrUndefined<AuthReply>(response)
    if (response.status === 200 && typeof body?.session !== 'object') throw unexpectedV6Body(options, { method: 'POST', path: '/api/auth', response, found: 'JSON without a session object' })
    // No password on the Pi-hole: valid, but `sid: null`; then no header and nothing to log out of.
    if (response.status === 200 && body?.session?.valid) return { sid: body.session.sid ?? null, app: body.session.message === 'app-password correct' }
    if (response.status === 429 && body?.error?.key === 'rate_limiting' && attempt === 1) {
      await sleep(options.loginRetryDelayMs ?? 1100, undefined, options.signal ? { signal: options.signal } : {})
      continue
    }
    throw loginError(options, response, body)
  }
}

function loginError(options: PiholeV6Options, response: HttpResponse, body: AuthReply | undefined): PiholeError {
  const key = options.configKey
  const fail = (hint: string) => statusError(options, 'POST', '/api/auth', response, hint)
  if (response.status === 401 || (response.status === 200 && body?.session?.valid === false)) {
    const why = body?.session?.message ? ` (${body.session.message})` : ''
    const hint = options.password ? `check ${key}.password` : `this Pi-hole has a password: set ${key}.password (or passwordFile)`
    return new PiholeError(`Pi-hole ${options.url}: POST /api/auth → ${response.status} wrong password${why}`, { url: options.url, method: 'POST', path: '/api/auth', status: response.status, key: `${key}.password`, hint })
  }
  if (body?.error?.key === 'api_seats_exceeded') {
    return fail('every API seat is taken: raise webserver.api.max_sessions on the Pi-hole, or end the sessions other tools left open (Settings → Web interface / API)')
  }
  if (body?.error?.key === 'rate_limiting') return fail('still rate-limited after waiting once: something else is logging in to this Pi-hole several times a second')
  return fail(`check ${key}`)
}

async function logout(options: PiholeV6Options, sid: string | null): Promise<void> {
  if (sid === null) return
  const response = await piholeRequest(options, 'DELETE', '/api/auth', { headers: { 'X-FTL-SID': sid }, expect: [204, 401, 404] })
  // 401/404: the session is gone already (expired, or the Pi-hole restarted without restoring it): nothing holds a seat.
  void response
}

const ELEMENT = { A: 'dns/hosts', CNAME: 'dns/cnameRecords' } as const

// Real re-execs take 0.3–1 s; a slow Pi under load, a few.
const FTL_RESTART_WAIT_MS = 10_000

type FtlRestarts = { expect(): void; through<T>(work: () => Promise<T>): Promise<T> }

/**
 * FTL before 6.3 ignores `restart=false` and re-execs after every CNAME change, after its answer: its API refuses
 * connections for a moment. Once this session changed a CNAME, a request that got no answer at all is tried again
 * until FTL is back (sessions survive the re-exec).
 */
function ftlRestarts(options: PiholeV6Options): FtlRestarts {
  let expected = false
  return {
    expect: () => void (expected = true),
    async through(work) {
      const deadline = Date.now() + FTL_RESTART_WAIT_MS
      for (;;) {
        try {
          return await work()
        } catch (error) {
          const noAnswer = error instanceof PiholeError && error.status === undefined
          if (!expected || !noAnswer || Date.now() >= deadline || options.signal?.aborted) throw error
          await sleep(250)
        }
      }
    },
  }
}

/** The SID this session sends, replaced when FTL ended the session it named. */
type V6Login = {
  readonly sid: string | null
  /** Logged in with an app password (FTL's `"app-password correct"`). */
  readonly app: boolean
  /** Logs in again, unless a call running alongside already replaced `lost`; both then go on with the new SID. */
  renew(lost: string): Promise<void>
}

function v6Login(options: PiholeV6Options, first: V6Session): V6Login {
  let { sid } = first
  let renewing: Promise<void> | undefined
  return {
    get sid() {
      return sid
    },
    app: first.app,
    renew(lost) {
      if (sid !== lost) return renewing ?? Promise.resolve()
      renewing ??= logIn(options)
        .then((fresh) => {
          sid = fresh.sid
          options.onNotice?.(`${options.url}: the Pi-hole ended this run's session (its session timeout, an FTL restart or a logout); logged in again`)
        })
        .finally(() => void (renewing = undefined))
      return renewing
    },
  }
}

type AuthorisedRequest = Omit<HttpRequestOptions, 'headers'> & { expect: readonly number[] }

/**
 * One request in the session. FTL ends sessions on its own: `webserver.session.timeout` (30 min idle by default), a
 * restart without `webserver.session.restore`, an admin logging sessions out, a password change. The SID then gets
 * 401, so this logs in again once and sends the request once more. That is safe for a write too, when the 401 is FTL's
 * `unauthorized` error: FTL checks the session before it runs the handler (`api_request[]` in `src/api/api.c`), so a
 * refused request changed nothing. Without a SID (no password on the Pi-hole) there was no session to renew.
 */
async function authorised(options: PiholeV6Options, login: V6Login, method: string, path: string, request: AuthorisedRequest): Promise<HttpResponse> {
  const send = () => piholeRequest(options, method, path, { ...request, headers: login.sid === null ? {} : { 'X-FTL-SID': login.sid } })
  const used = login.sid
  const response = await send()
  // Only FTL's own refusal: a proxy's 401 says nothing about the session, and a new login would leave this one's seat taken.
  if (response.status !== 401 || used === null || !refusedUnauthenticated(response)) return response
  try {
    await login.renew(used)
  } catch (error) {
    throw reloginFailed(options, `${method} ${path}`, error)
  }
  const again = await send()
  if (again.status === 401) throw refusedAgain(options, method, path, again)
  return again
}

/** FTL's own `401 {"error":{"key":"unauthorized"}}`, not some proxy's 401 that says nothing about what was done. */
const refusedUnauthenticated = (response: HttpResponse) => jsonOrUndefined<FtlErrorBody>(response)?.error?.key === 'unauthorized'

function reloginFailed(options: PiholeV6Options, request: string, error: unknown): unknown {
  if (!(error instanceof PiholeError)) return error
  const what = error.message.replace(`Pi-hole ${options.url}: `, '')
  const changed = error.status === 401 ? ' (was the password changed on the Pi-hole?)' : ''
  return new PiholeError(`Pi-hole ${options.url}: ${request} → 401: the session had ended, and logging in again failed${changed}: ${what}`, {
    url: options.url, method: 'POST', path: '/api/auth', ...(error.status === undefined ? {} : { status: error.status }), ...(error.key ? { key: error.key } : {}), cause: error,
  })
}

function refusedAgain(options: PiholeV6Options, method: string, path: string, response: HttpResponse): PiholeError {
  const key = options.configKey
  return statusError(options, method, path, response,
    `refused again right after logging in anew: something ends this tool's sessions at once. Check the Pi-hole's webserver.session.timeout and webserver.api settings, ` +
    `whether its password (or an app password) is being changed or something logs every session out, and that ${key}.url reaches one Pi-hole, not several behind one address`)
}

function sessionApi(options: PiholeV6Options, login: V6Login, restarts: FtlRestarts): PiholeSession {
  let cnamesChanged = false
  const itemPath = (type: DnsRecord['type'], text: string) => `/api/config/${ELEMENT[type]}/${encodeURIComponent(text)}`
  const changedCname = () => {
    cnamesChanged = true
    restarts.expect()
  }
  return {
    list: () =>
      restarts.through(async () => {
        // Both at once (a renewal they both need is made once: v6Login); a failure of both reports the first list's.
        const [hosts, cnames] = await Promise.allSettled([readArray(options, login, 'hosts'), readArray(options, login, 'cnameRecords')])
        if (hosts.status === 'rejected') throw hosts.reason
        if (cnames.status === 'rejected') throw cnames.reason
        return [...hosts.value.flatMap(parseHostEntry), ...cnames.value.flatMap(parseCnameEntry)]
      }),
    async add(record) {
      const text = record.type === 'A' ? hostEntryText(record) : cnameEntryText(record)
      // A PUT FTL applied but whose answer was lost is "already present" the second time: done either way.
      const response = await restarts.through(() => writeItem(options, login, 'PUT', itemPath(record.type, text)))
      if (response.status === 201 && record.type === 'CNAME') changedCname()
      return response.status === 201 ? 'added' : 'present'
    },
    async remove(entry) {
      // DELETE matches the exact stored string, spacing included.
      const response = await restarts.through(() => writeItem(options, login, 'DELETE', itemPath(entry.record.type, entry.stored)))
      if (response.status === 204 && entry.record.type === 'CNAME') changedCname()
      return response.status === 204 ? 'removed' : 'absent'
    },
    async applyPending(earlier = false) {
      if (!cnamesChanged && !earlier) return
      const response = await restarts.through(() => authorised(options, login, 'POST', '/api/action/restartdns', { expect: [200, 401, 403], retry: true }))
      const hint = response.status === 401 ? writeHint(options, 401) : 'webserver.api.allow_destructive may be off: restart DNS on the Pi-hole by hand to serve the new CNAMEs'
      if (response.status !== 200) throw statusError(options, 'POST', '/api/action/restartdns', response, hint)
      cnamesChanged = false
    },
    async writeRefusal() {
      if (!login.app) return undefined
      const path = '/api/config/webserver/api/app_sudo'
      const response = await restarts.through(() => authorised(options, login, 'GET', path, { expect: [200, 401, 403] }))
      if (response.status !== 200) throw statusError(options, 'GET', path, response, `the session was refused; check ${options.configKey}.password`)
      const sudo = v6Json<{ config?: { webserver?: { api?: { app_sudo?: unknown } } } } | null>(options, 'GET', path, response)?.config?.webserver?.api?.app_sudo
      if (typeof sudo !== 'boolean') throw unexpectedV6Body(options, { method: 'GET', path, response, found: 'JSON without a config.webserver.api.app_sudo flag' })
      return sudo ? undefined : `${options.configKey}.password is an app password, and the Pi-hole's webserver.api.app_sudo is false: it may read the records but not change them`
    },
  }
}

async function readArray(options: PiholeV6Options, login: V6Login, item: 'hosts' | 'cnameRecords'): Promise<string[]> {
  const path = `/api/config/dns/${item}`
  const response = await authorised(options, login, 'GET', path, { expect: [200, 401, 403] })
  if (response.status !== 200) throw statusError(options, 'GET', path, response, `the session was refused; check ${options.configKey}.password`)
  const list = v6Json<{ config?: { dns?: Record<string, unknown> } } | null>(options, 'GET', path, response)?.config?.dns?.[item]
  if (!Array.isArray(list)) throw unexpectedV6Body(options, { method: 'GET', path, response, found: `JSON without a config.dns.${item} list` })
  return list.filter((e): e is string => typeof e === 'string')
}

/** PUT/DELETE one array item with `restart=false`: "already present" (400) and "not found" (404) are answers, not errors. */
async function writeItem(options: PiholeV6Options, login: V6Login, method: 'PUT' | 'DELETE', path: string): Promise<HttpResponse> {
  const response = await authorised(options, login, method, path, { query: { restart: 'false' }, expect: [201, 204, 400, 401, 403, 404] })
  const alreadyPresent = method === 'PUT' && response.status === 400 && /already present/i.test(response.text())
  if (response.status === 201 || response.status === 204 || alreadyPresent || (method === 'DELETE' && response.status === 404)) return response
  throw statusError(options, method, path, response, writeHint(options, response.status))
}

/** What lets a login with an app password change records. */
export const appSudoFix = (configKey: string) => `set webserver.api.app_sudo = true on the Pi-hole, or put the admin password in ${configKey}.password`

function writeHint(options: PiholeV6Options, status: number): string | undefined {
  if (status === 403) return `an app password may not change the config: ${appSudoFix(options.configKey)}`
  if (status === 401) return `the session was refused; check ${options.configKey}.password`
  if (status === 404) return 'this Pi-hole has no dns.hosts/dns.cnameRecords item API: is it older than v6.0?'
  return undefined
}
