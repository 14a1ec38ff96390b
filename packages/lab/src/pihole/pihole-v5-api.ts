import { createHash } from 'node:crypto'
import { isIP } from 'node:net'
import type { DoubleRequest, DoubleResponse } from './pihole-exchange.js'
import type { PiholeRecordStore } from './pihole-record-store.js'
import type { DnsEffects } from './pihole-v6-api.js'

/** `WEBPASSWORD` in setupVars.conf, which `auth=` must equal: sha256(sha256(password)) in hex (web v5.21 password.php). */
export const v5Token = (password: string) => sha256(sha256(password))
const sha256 = (text: string) => createHash('sha256').update(text).digest('hex')

export type V5Context = { password?: string; store: PiholeRecordStore; dns: DnsEffects }

const DOMAIN = /^(?=.{1,253}$)[a-zA-Z0-9_]([a-zA-Z0-9_-]{0,61}[a-zA-Z0-9_])?(\.[a-zA-Z0-9_]([a-zA-Z0-9_-]{0,61}[a-zA-Z0-9_])?)*$/

const done = (success: boolean, message = ''): DoubleResponse => ({ status: 200, json: { success, message } })

/** v5's `admin/api.php`: always HTTP 200, JSON; everything else on a v5 box is lighttpd's 404 page. */
export async function handleV5(request: DoubleRequest, ctx: V5Context): Promise<DoubleResponse> {
  const { pathname, searchParams: q } = request.url
  if (pathname !== '/admin/api.php') return { status: 404, text: '<html><body><h1>404 Not Found</h1></body></html>' }
  if (q.has('version')) return { status: 200, json: { version: 3 } }
  // A wrong token skips every authenticated branch: the reply is an empty array, still 200 (api.php v5.21).
  const expected = ctx.password === undefined || ctx.password === '' ? '' : v5Token(ctx.password)
  if (q.get('auth') !== expected) return { status: 200, json: [] }
  if (q.has('customdns')) return customDns(q, ctx)
  if (q.has('customcname')) return customCname(q, ctx)
  return { status: 200, json: [] }
}

/** `getCustomDNSEntries()` keeps only lines with exactly two fields. */
function dnsPairs(store: PiholeRecordStore): [string, string][] {
  return store.records.hosts.map((line) => line.trim().split(/\s+/)).filter((f) => f.length === 2).map(([ip, domain]) => [domain!, ip!])
}

async function customDns(q: URLSearchParams, ctx: V5Context): Promise<DoubleResponse> {
  const action = q.get('action')
  if (action === 'get') return { status: 200, json: { data: dnsPairs(ctx.store) } }
  const ip = q.get('ip') ?? ''
  const domains = (q.get('domain') ?? '').split(',').map((d) => d.trim()).filter(Boolean)
  if (ip === '') return done(false, 'IP must be set')
  if (isIP(ip) === 0) return done(false, 'IP must be valid')
  if (domains.length === 0) return done(false, 'Domain must be set')
  const bad = domains.find((d) => !DOMAIN.test(d))
  if (bad) return done(false, `Domain '${bad}' is not valid`)
  if (action === 'add') {
    const family = isIP(ip) === 4 ? 'IPv4' : 'IPv6'
    const taken = domains.find((d) => dnsPairs(ctx.store).some(([domain, other]) => domain === d && isIP(other) === isIP(ip)))
    if (taken) return done(false, `The domain ${taken} already has a custom DNS entry for an ${family}`)
    for (const d of domains) ctx.store.add('hosts', `${ip} ${d}`)
  } else if (action === 'delete') {
    const missing = domains.find((d) => !dnsPairs(ctx.store).some(([domain, other]) => domain === d && other === ip))
    if (missing) return done(false, 'This domain/ip association does not exist')
    for (const d of domains) ctx.store.remove('hosts', `${ip} ${d}`)
  } else return done(false, 'Invalid action')
  // `pihole -a addcustomdns` ends with `pihole restartdns`.
  await ctx.dns.hostsChanged()
  return done(true)
}

async function customCname(q: URLSearchParams, ctx: V5Context): Promise<DoubleResponse> {
  const action = q.get('action')
  const pairs = () => ctx.store.records.cnameRecords.map((c) => c.split(',')).map(([alias, target]) => [alias!, target!] as [string, string])
  if (action === 'get') return { status: 200, json: { data: pairs() } }
  const domain = (q.get('domain') ?? '').trim()
  const target = (q.get('target') ?? '').trim()
  if (domain === '') return done(false, 'Domain must be set')
  if (!DOMAIN.test(domain)) return done(false, `Domain '${domain}' is not valid`)
  if (target === '') return done(false, 'Target must be set')
  if (!DOMAIN.test(target)) return done(false, 'Target must be valid')
  if (domain === target) return done(false, 'Domain and target cannot be the same')
  if (action === 'add') {
    if (pairs().some(([alias]) => alias === domain)) return done(false, `There is already a CNAME record for '${domain}'`)
    ctx.store.add('cnameRecords', `${domain},${target}`)
  } else if (action === 'delete') {
    if (ctx.store.remove('cnameRecords', `${domain},${target}`).kind === 'absent') return done(false, 'This domain/target association does not exist')
  } else return done(false, 'Invalid action')
  await ctx.dns.restartDns()
  return done(true)
}
