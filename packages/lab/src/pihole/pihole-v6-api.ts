import { ftlError, took, type DoubleRequest, type DoubleResponse } from './pihole-exchange.js'
import type { PiholeRecordStore, RecordElement } from './pihole-record-store.js'
import type { PiholeSession, PiholeSessionTable } from './pihole-sessions.js'

export type V6Options = { password?: string; appPassword?: string; appSudo: boolean; ftl: '6.2' | '6.3' }

/** What the API does to the resolver: hosts are live at once (inotify in FTL), CNAMEs need a restart. */
export type DnsEffects = {
  hostsChanged(): Promise<void>
  restartDns(): Promise<void>
  cnamesPending(): void
  /** FTL < 6.3 after a CNAME change: answer first, then re-exec (the API away for a moment, DNS restarted). */
  restartFtl(): void
  /** Once every change asked for so far is done. */
  settled(): Promise<void>
}

export type V6Context = { options: V6Options; sessions: PiholeSessionTable; store: PiholeRecordStore; dns: DnsEffects }

/** The config items the double serves: `element` in the spec's `/config/{element}/{value}`. */
const ARRAY_ELEMENTS: Record<string, RecordElement> = { 'dns/hosts': 'hosts', 'dns/cnameRecords': 'cnameRecords' }

const sessionBody = (fields: { valid: boolean; sid: string | null; csrf?: string | null; validity: number; message: string }) => ({
  session: { valid: fields.valid, totp: false, sid: fields.sid, ...(fields.csrf === undefined ? {} : { csrf: fields.csrf }), validity: fields.validity, message: fields.message },
  took: took(),
})

const UNAUTHORIZED = () => ftlError(401, 'unauthorized', 'Unauthorized')

export type SpecOperation = { operationId: string; specPath: string }

/**
 * Which spec operation a request is, with the path rewritten into the spec's terms. The spec's `/config/{element}/{value}`
 * has a slash inside `element` (`dns/hosts`), which no generic router matches, so `element` is sent encoded as one segment.
 */
export function v6Operation(method: string, rawPath: string): SpecOperation | undefined {
  const path = decodePath(rawPath)
  const auth: Record<string, string> = { POST: 'add_auth', DELETE: 'delete_groups', GET: 'get_auth' }
  if (path === '/api/auth' && auth[method]) return { operationId: auth[method]!, specPath: '/auth' }
  if (path === '/api/action/restartdns' && method === 'POST') return { operationId: 'action_restartdns', specPath: '/action/restartdns' }
  if (!path.startsWith('/api/config/')) return undefined
  const rest = path.slice('/api/config/'.length)
  if (method === 'GET') return { operationId: 'get_config_elem', specPath: `/config/${encodeURIComponent(rest)}` }
  const operationId = method === 'PUT' ? 'add_array_item' : method === 'DELETE' ? 'delete_array_item' : undefined
  const { element, value } = splitConfigPath(rest)
  return operationId ? { operationId, specPath: `/config/${encodeURIComponent(element)}/${encodeURIComponent(value)}` } : undefined
}

/** `dns/hosts/1.2.3.4 name` → element `dns/hosts`, value the rest; an unknown element keeps its first two segments. */
function splitConfigPath(rest: string): { element: string; value: string; known?: RecordElement } {
  const known = Object.keys(ARRAY_ELEMENTS).find((e) => rest.startsWith(`${e}/`))
  const element = known ?? rest.split('/').slice(0, 2).join('/')
  return { element, value: rest.slice(element.length + 1), ...(known ? { known: ARRAY_ELEMENTS[known]! } : {}) }
}

/** Answers one request the way FTL's `api_request[]` table does, for the endpoints the tool uses. */
export async function handleV6(request: DoubleRequest, ctx: V6Context): Promise<DoubleResponse> {
  const path = decodePath(request.url.pathname)
  if (path.startsWith('/admin/')) return ftlError(400, 'bad_request', 'Bad request', 'The API is hosted at pi.hole/api, not pi.hole/admin/api')
  if (path === '/api/auth') return handleAuth(request, ctx)
  if (path === '/api/action/restartdns' && request.method === 'POST') return authorised(request, ctx, () => restartDns(ctx))
  if (path.startsWith('/api/config/')) return handleConfig(request, ctx, path.slice('/api/config/'.length))
  return ftlError(404, 'not_found', 'Not found', path)
}

/** civetweb decodes the whole path before FTL splits it (`decode_url=yes`, `+` is a space too). */
const decodePath = (raw: string) => decodeURIComponent(raw.replace(/\+/g, ' '))

function sidOf(request: DoubleRequest): string | undefined {
  const header = request.headers['x-ftl-sid'] ?? request.headers['sid']
  return (Array.isArray(header) ? header[0] : header) ?? request.url.searchParams.get('sid') ?? undefined
}

/** Runs `handler` when the request may: no password set, or a live session. */
async function authorised(request: DoubleRequest, ctx: V6Context, handler: (session?: PiholeSession) => Promise<DoubleResponse> | DoubleResponse) {
  if (ctx.options.password === undefined) return handler()
  const { session } = ctx.sessions.find(sidOf(request))
  return session ? handler(session) : UNAUTHORIZED()
}

async function restartDns(ctx: V6Context): Promise<DoubleResponse> {
  await ctx.dns.restartDns()
  return { status: 200, json: { status: 'success', took: took() } }
}

function handleAuth(request: DoubleRequest, ctx: V6Context): DoubleResponse {
  if (request.method === 'POST') return login(request, ctx)
  if (request.method === 'DELETE') return logout(request, ctx)
  if (request.method === 'GET') return checkSession(request, ctx)
  return ftlError(405, 'method_not_allowed', 'Method not allowed')
}

function login(request: DoubleRequest, ctx: V6Context): DoubleResponse {
  const body = request.body
  if (body === undefined) return ftlError(400, 'bad_request', 'No request body data')
  const password = (body as { password?: unknown }).password
  if (typeof password !== 'string') return ftlError(400, 'bad_request', "Field password has to be of type 'string'")
  const { options, sessions } = ctx
  if (options.password === undefined) {
    return { status: 200, json: sessionBody({ valid: true, sid: null, validity: -1, message: password === '' ? 'no password set' : 'password incorrect' }) }
  }
  if (sessions.rateLimited()) return ftlError(429, 'rate_limiting', 'Rate-limiting login attempts')
  const app = options.appPassword !== undefined && password === options.appPassword
  if (!app && password !== options.password) return { status: 401, json: sessionBody({ valid: false, sid: null, validity: -1, message: 'password incorrect' }) }
  const session = sessions.open(app)
  if (!session) return ftlError(429, 'api_seats_exceeded', 'API seats exceeded', 'increase webserver.api.max_sessions')
  const message = app ? 'app-password correct' : 'password correct'
  return { status: 200, json: sessionBody({ valid: true, sid: session.sid, csrf: session.csrf, validity: 1800, message }) }
}

function logout(request: DoubleRequest, ctx: V6Context): DoubleResponse {
  if (ctx.options.password === undefined) return UNAUTHORIZED()
  const sid = sidOf(request)
  const { session, problem } = ctx.sessions.find(sid)
  if (!session) return { status: 401, json: sessionBody({ valid: false, sid: null, validity: -1, message: problem ?? 'session unknown' }) }
  ctx.sessions.close(session.sid)
  return { status: 204 }
}

function checkSession(request: DoubleRequest, ctx: V6Context): DoubleResponse {
  if (ctx.options.password === undefined) return { status: 200, json: sessionBody({ valid: true, sid: null, validity: -1, message: 'no password set' }) }
  const { session, problem } = ctx.sessions.find(sidOf(request))
  if (!session) return { status: 401, json: sessionBody({ valid: false, sid: null, validity: -1, message: problem ?? 'session unknown' }) }
  return { status: 200, json: sessionBody({ valid: true, sid: session.sid, csrf: session.csrf, validity: 1800, message: 'session valid' }) }
}

async function handleConfig(request: DoubleRequest, ctx: V6Context, rest: string): Promise<DoubleResponse> {
  if (request.method === 'GET') return authorised(request, ctx, () => readConfig(ctx, rest))
  if (request.method !== 'PUT' && request.method !== 'DELETE') return ftlError(405, 'method_not_allowed', 'Method not allowed')
  const { known, value } = splitConfigPath(rest)
  return authorised(request, ctx, (session) => {
    if (session?.app && !ctx.options.appSudo) {
      return ftlError(403, 'forbidden', 'Unable to change configuration (read-only)', 'The current app session is not allowed to modify Pi-hole config settings (webserver.api.app_sudo is false)')
    }
    if (!known || value === '') return { status: 404, json: { took: took() } }
    return changeArray(request, ctx, known, value)
  })
}

function readConfig(ctx: V6Context, rest: string): DoubleResponse {
  const { hosts, cnameRecords } = ctx.store.records
  const dns = rest === 'dns' ? { hosts, cnameRecords } : rest === 'dns/hosts' ? { hosts } : rest === 'dns/cnameRecords' ? { cnameRecords } : undefined
  // Of the rest of the config, only what preflight asks an app-password login: may it change the config?
  const webserver = ['webserver', 'webserver/api', 'webserver/api/app_sudo'].includes(rest) ? { api: { app_sudo: ctx.options.appSudo } } : undefined
  return { status: 200, json: { config: dns ? { dns } : webserver ? { webserver } : {}, took: took() } }
}

async function changeArray(request: DoubleRequest, ctx: V6Context, element: RecordElement, value: string): Promise<DoubleResponse> {
  const outcome = request.method === 'PUT' ? ctx.store.add(element, value) : ctx.store.remove(element, value)
  if (outcome.kind === 'present') return ftlError(400, 'bad_request', 'Item already present', 'Uniqueness of items is enforced')
  if (outcome.kind === 'invalid') return ftlError(400, 'bad_request', 'Invalid value', outcome.hint)
  if (outcome.kind === 'absent') return { status: 404, json: { took: took() } }
  if (element === 'hosts') await ctx.dns.hostsChanged()
  // `?restart=false` (FTL ≥ 6.3) stores the CNAME but applies it only at the next restartdns; 6.2 ignores it.
  else if (ctx.options.ftl === '6.2') ctx.dns.restartFtl()
  else if (request.url.searchParams.get('restart') === 'false') ctx.dns.cnamesPending()
  else await ctx.dns.restartDns()
  return request.method === 'PUT' ? { status: 201, json: { took: took() } } : { status: 204 }
}
