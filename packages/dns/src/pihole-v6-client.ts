import { setTimeout as sleep } from 'node:timers/promises'
import type { HttpResponse, Secret } from '@homelab/core'
import { cnameEntryText, hostEntryText, parseCnameEntry, parseHostEntry, type DnsRecord, type PiholeEntry } from './dns-record.js'
import { PiholeError } from './errors/pihole-error.js'
import type { PiholeClient, PiholeSession } from './pihole-client.js'
import { jsonOrUndefined, piholeRequest, statusError, unexpectedV6Body, v6Json, type PiholeTarget } from './pihole-request.js'

export type PiholeV6Options = PiholeTarget & {
  password: Secret | undefined
  /** How long to wait after FTL's login rate limit (3 a second) before the one retry. */
  loginRetryDelayMs?: number
  signal?: AbortSignal
}

type AuthReply = { session?: { valid?: boolean; sid?: string | null; message?: string | null }; error?: { key?: string } }

/** Pi-hole v6's REST API (FTL ≥ 6.0). A session is a login: `open()` logs in, `end()` logs out. */
export function piholeV6Client(options: PiholeV6Options): PiholeClient {
  return {
    url: options.url,
    configKey: options.configKey,
    version: 'v6',
    async open() {
      const sid = await login(options)
      const restarts = ftlRestarts(options)
      return { session: sessionApi(options, sid, restarts), end: () => restarts.through(() => logout(options, sid)) }
    },
    close: () => options.http.close(),
  }
}

async function login(options: PiholeV6Options): Promise<string | null> {
  // The password travels only here, in the body: never in a URL, header or message.
  const json = { password: options.password?.reveal() ?? '' }
  for (let attempt = 1; ; attempt++) {
    const response = await piholeRequest(options, 'POST', '/api/auth', { json, expect: [200, 400, 401, 403, 429] })
    // FTL answers every login with JSON; a 200 that is not a session is some other web server.
    const body = response.status === 200 ? v6Json<AuthReply>(options, 'POST', '/api/auth', response) : jsonOrUndefined<AuthReply>(response)
    if (response.status === 200 && typeof body?.session !== 'object') throw unexpectedV6Body(options, { method: 'POST', path: '/api/auth', response, found: 'JSON without a session object' })
    // No password on the Pi-hole: valid, but `sid: null`; then no header and nothing to log out of.
    if (response.status === 200 && body?.session?.valid) return body.session.sid ?? null
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

function sessionApi(options: PiholeV6Options, sid: string | null, restarts: FtlRestarts): PiholeSession {
  const headers: Record<string, string> = sid === null ? {} : { 'X-FTL-SID': sid }
  let cnamesChanged = false
  const itemPath = (type: DnsRecord['type'], text: string) => `/api/config/${ELEMENT[type]}/${encodeURIComponent(text)}`
  const changedCname = () => {
    cnamesChanged = true
    restarts.expect()
  }
  return {
    list: () => restarts.through(async () => [...(await readArray(options, headers, 'hosts')).flatMap(parseHostEntry), ...(await readArray(options, headers, 'cnameRecords')).flatMap(parseCnameEntry)]),
    async add(record) {
      const text = record.type === 'A' ? hostEntryText(record) : cnameEntryText(record)
      // A PUT FTL applied but whose answer was lost is "already present" the second time: done either way.
      const response = await restarts.through(() => writeItem(options, 'PUT', itemPath(record.type, text), headers))
      if (response.status === 201 && record.type === 'CNAME') changedCname()
      return response.status === 201 ? 'added' : 'present'
    },
    async remove(entry) {
      // DELETE matches the exact stored string, spacing included.
      const response = await restarts.through(() => writeItem(options, 'DELETE', itemPath(entry.record.type, entry.stored), headers))
      if (response.status === 204 && entry.record.type === 'CNAME') changedCname()
      return response.status === 204 ? 'removed' : 'absent'
    },
    async applyPending(earlier = false) {
      if (!cnamesChanged && !earlier) return
      const response = await restarts.through(() => piholeRequest(options, 'POST', '/api/action/restartdns', { headers, expect: [200, 401, 403], retry: true }))
      if (response.status !== 200) throw statusError(options, 'POST', '/api/action/restartdns', response, 'webserver.api.allow_destructive may be off: restart DNS on the Pi-hole by hand to serve the new CNAMEs')
      cnamesChanged = false
    },
  }
}

async function readArray(options: PiholeV6Options, headers: Record<string, string>, item: 'hosts' | 'cnameRecords'): Promise<string[]> {
  const path = `/api/config/dns/${item}`
  const response = await piholeRequest(options, 'GET', path, { headers, expect: [200, 401, 403] })
  if (response.status !== 200) throw statusError(options, 'GET', path, response, `the session was refused; check ${options.configKey}.password`)
  const list = v6Json<{ config?: { dns?: Record<string, unknown> } } | null>(options, 'GET', path, response)?.config?.dns?.[item]
  if (!Array.isArray(list)) throw unexpectedV6Body(options, { method: 'GET', path, response, found: `JSON without a config.dns.${item} list` })
  return list.filter((e): e is string => typeof e === 'string')
}

/** PUT/DELETE one array item with `restart=false`: "already present" (400) and "not found" (404) are answers, not errors. */
async function writeItem(options: PiholeV6Options, method: 'PUT' | 'DELETE', path: string, headers: Record<string, string>): Promise<HttpResponse> {
  const response = await piholeRequest(options, method, path, { headers, query: { restart: 'false' }, expect: [201, 204, 400, 401, 403, 404] })
  const alreadyPresent = method === 'PUT' && response.status === 400 && /already present/i.test(response.text())
  if (response.status === 201 || response.status === 204 || alreadyPresent || (method === 'DELETE' && response.status === 404)) return response
  throw statusError(options, method, path, response, writeHint(options, response.status))
}

function writeHint(options: PiholeV6Options, status: number): string | undefined {
  if (status === 403) return `an app password may not change the config: set webserver.api.app_sudo = true on the Pi-hole, or put the admin password in ${options.configKey}.password`
  if (status === 401) return `the session was refused; check ${options.configKey}.password`
  if (status === 404) return 'this Pi-hole has no dns.hosts/dns.cnameRecords item API: is it older than v6.0?'
  return undefined
}
