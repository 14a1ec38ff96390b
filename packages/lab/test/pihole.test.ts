import { mkdtempSync, readFileSync, readdirSync } from 'node:fs'
import { Resolver } from 'node:dns/promises'
import { tmpdir } from 'node:os'
import { join } from 'node:path'
import { suite } from 'uvu'
import * as assert from 'uvu/assert'
import { LabStateError, startPihole, v5Token, type PiholeDouble, reportHookErrors } from '../src/index.js'

type Ctx = { open: PiholeDouble; locked: PiholeDouble; v5: PiholeDouble }
const Pihole = suite<Ctx>('lab Pi-hole doubles', {} as Ctx)
const PASSWORD = 'lab pihole password 7'
const APP_PASSWORD = 'lab app password 8'
const stateDir = () => mkdtempSync(join(tmpdir(), 'lab-pihole-'))

Pihole.before(reportHookErrors(async (ctx) => {
  // Two v6 instances at once, one without a password and one with, plus a v5 one.
  ctx.open = await startPihole({ stateDir: stateDir(), ip: '127.0.4.61', dnsPort: 1053 })
  ctx.locked = await startPihole({ stateDir: stateDir(), ip: '127.0.4.62', dnsPort: 1053, password: PASSWORD, appPassword: APP_PASSWORD, maxSessions: 3 })
  ctx.v5 = await startPihole({ stateDir: stateDir(), ip: '127.0.4.63', dnsPort: 1053, password: PASSWORD, version: 5 })
}))

Pihole.after(async (ctx) => {
  for (const p of [ctx.open, ctx.locked, ctx.v5]) await p?.stop()
})

type Reply = { status: number; body: any }
async function call(p: PiholeDouble, method: string, path: string, options: { sid?: string | null; json?: unknown } = {}): Promise<Reply> {
  const headers: Record<string, string> = options.sid ? { 'X-FTL-SID': options.sid } : {}
  if (options.json !== undefined) headers['content-type'] = 'application/json'
  const res = await fetch(`${p.url}${path}`, { method, headers, ...(options.json === undefined ? {} : { body: JSON.stringify(options.json) }) })
  const text = await res.text()
  return { status: res.status, body: text ? JSON.parse(text) : undefined }
}
const login = async (p: PiholeDouble, password: string) => call(p, 'POST', '/api/auth', { json: { password } })
const hostPath = (entry: string) => `/api/config/dns/hosts/${encodeURIComponent(entry)}`
const resolver = (p: PiholeDouble) => {
  const r = new Resolver({ timeout: 1000, tries: 1 })
  r.setServers([`${p.dnsAddress}:${p.dnsPort}`])
  return r
}
/** Login attempts are limited per wall-clock second: start each login-heavy test in a fresh one. */
const nextSecond = () => new Promise((r) => setTimeout(r, 1000 - (Date.now() % 1000) + 20))

Pihole('a Pi-hole without a password answers sid null and needs no session for config writes', async ({ open }) => {
  const reply = await login(open, '')
  assert.is(reply.status, 200)
  assert.equal(reply.body.session.sid, null)
  assert.is(reply.body.session.message, 'no password set')
  assert.is((await call(open, 'PUT', hostPath('127.0.2.9 free.homelab.local'))).status, 201)
  assert.is((await call(open, 'DELETE', '/api/auth')).status, 401)
  assert.equal(open.validationFailures, [])
})

Pihole('a wrong password gets 401 with the session object, a right one a SID that logout closes', async ({ locked }) => {
  await nextSecond()
  const wrong = await login(locked, 'nope')
  assert.is(wrong.status, 401)
  assert.is(wrong.body.session.message, 'password incorrect')
  const right = await login(locked, PASSWORD)
  assert.type(right.body.session.sid, 'string')
  assert.is((await call(locked, 'GET', '/api/config/dns/hosts')).status, 401)
  assert.is((await call(locked, 'GET', '/api/config/dns/hosts', { sid: right.body.session.sid })).status, 200)
  assert.is((await call(locked, 'DELETE', '/api/auth', { sid: right.body.session.sid })).status, 204)
  assert.is(locked.sessions.open, 0)
})

Pihole('the fourth login within a second is rate-limited with 429 rate_limiting', async ({ locked }) => {
  await nextSecond()
  const replies = [await login(locked, 'x'), await login(locked, 'x'), await login(locked, 'x'), await login(locked, 'x')]
  assert.equal(replies.map((r) => r.status), [401, 401, 401, 429])
  assert.is(replies[3]!.body.error.key, 'rate_limiting')
})

Pihole('when every seat is taken a login gets 429 api_seats_exceeded naming max_sessions', async ({ locked }) => {
  await nextSecond()
  const sids = [(await login(locked, PASSWORD)).body.session.sid, (await login(locked, PASSWORD)).body.session.sid, (await login(locked, PASSWORD)).body.session.sid]
  await nextSecond()
  const full = await login(locked, PASSWORD)
  assert.is(full.status, 429)
  assert.equal(full.body.error, { key: 'api_seats_exceeded', message: 'API seats exceeded', hint: 'increase webserver.api.max_sessions' })
  for (const sid of sids) await call(locked, 'DELETE', '/api/auth', { sid })
  assert.is(locked.sessions.open, 0)
})

Pihole('an app password logs in but may not change config: 403 naming app_sudo', async ({ locked }) => {
  await nextSecond()
  const app = await login(locked, APP_PASSWORD)
  assert.is(app.body.session.message, 'app-password correct')
  const put = await call(locked, 'PUT', hostPath('127.0.2.9 app.homelab.local'), { sid: app.body.session.sid })
  assert.is(put.status, 403)
  assert.match(put.body.error.hint, /app_sudo/)
  await call(locked, 'DELETE', '/api/auth', { sid: app.body.session.sid })
  assert.equal(locked.validationFailures, [])
})

Pihole('PUT twice says Item already present; whitespace is normalised; DELETE needs the stored string, else 404', async ({ open }) => {
  assert.is((await call(open, 'PUT', hostPath('127.0.2.8   spaced.homelab.local'))).status, 201)
  assert.ok(open.records().hosts.includes('127.0.2.8 spaced.homelab.local'))
  const again = await call(open, 'PUT', hostPath('127.0.2.8 spaced.homelab.local'))
  assert.is(again.status, 400)
  assert.is(again.body.error.message, 'Item already present')
  assert.is((await call(open, 'DELETE', hostPath('127.0.2.8   spaced.homelab.local'))).status, 404)
  assert.is((await call(open, 'DELETE', hostPath('127.0.2.8 spaced.homelab.local'))).status, 204)
  assert.equal(open.validationFailures, [])
})

Pihole('hosts are answered by dnsmasq at once; a CNAME with restart=false only after restartdns', async ({ open }) => {
  await call(open, 'PUT', hostPath('127.0.2.7 target.homelab.local'))
  assert.equal(await resolver(open).resolve4('target.homelab.local'), ['127.0.2.7'])
  assert.is(readFileSync(open.hostsFile, 'utf8').includes('127.0.2.7 target.homelab.local'), true)
  await call(open, 'PUT', `/api/config/dns/cnameRecords/${encodeURIComponent('alias.homelab.local,target.homelab.local')}?restart=false`)
  await resolver(open).resolve4('alias.homelab.local').then(() => assert.unreachable('served before restartdns'), (e) => assert.ok(e.code))
  assert.is((await call(open, 'POST', '/api/action/restartdns')).status, 200)
  assert.equal(await resolver(open).resolve4('alias.homelab.local'), ['127.0.2.7'])
})

Pihole('a request that breaks the OpenAPI spec fails with 500 and is recorded', async ({ open }) => {
  const bad = await call(open, 'POST', '/api/auth', { json: { password: 5 } })
  assert.is(bad.status, 500)
  assert.match(bad.body.error.hint, /password/)
  assert.is(open.validationFailures.length, 1)
  const unknown = await call(open, 'GET', '/api/nothing/here')
  assert.is(unknown.status, 500)
  assert.is(open.validationFailures.length, 2)
})

Pihole('the request log counts writes but not logins', async ({ open }) => {
  open.requests.reset()
  await login(open, '')
  await call(open, 'GET', '/api/config/dns/hosts')
  assert.is(open.requests.writes().length, 0)
  await call(open, 'PUT', hostPath('127.0.2.6 counted.homelab.local'))
  assert.is(open.requests.writes().length, 1)
  assert.is(open.requests.count('PUT', '/api/config/dns/hosts'), 1)
})

Pihole('faults: a status for matching requests, a hang, and down (connection refused) until cleared', async ({ open }) => {
  await open.setFault({ kind: 'status', status: 500, match: { method: 'GET' } })
  assert.is((await call(open, 'GET', '/api/config/dns/hosts')).status, 500)
  await open.setFault({ kind: 'hang' })
  const hung = await Promise.race([call(open, 'GET', '/api/config/dns/hosts').then(() => 'answered', () => 'failed'), new Promise((r) => setTimeout(() => r('waiting'), 300))])
  assert.is(hung, 'waiting')
  await open.setFault({ kind: 'down' })
  await call(open, 'GET', '/api/config/dns/hosts').then(() => assert.unreachable('answered while down'), (e) => assert.match(String(e.cause?.code ?? e.cause?.cause?.code), /ECONNREFUSED|UND_ERR_SOCKET/))
  await open.setFault(undefined)
  assert.is((await call(open, 'GET', '/api/config/dns/hosts')).status, 200)
})

Pihole('v5 api.php: version probe, token = double SHA-256, [] for a wrong token, duplicate names refused', async ({ v5 }) => {
  const api = (q: string) => fetch(`${v5.url}/admin/api.php?${q}`).then((r) => r.json() as Promise<any>)
  assert.equal(await api('version'), { version: 3 })
  assert.equal(await api('customdns&action=get&auth=wrong'), [])
  const auth = v5Token(PASSWORD)
  assert.equal(await api(`customdns&action=add&ip=127.0.2.5&domain=five.homelab.local&auth=${auth}`), { success: true, message: '' })
  const dup = await api(`customdns&action=add&ip=127.0.2.6&domain=five.homelab.local&auth=${auth}`)
  assert.is(dup.success, false)
  assert.match(dup.message, /already has a custom DNS entry for an IPv4/)
  assert.equal((await api(`customdns&action=get&auth=${auth}`)).data, [['five.homelab.local', '127.0.2.5']])
  assert.equal(await resolver(v5).resolve4('five.homelab.local'), ['127.0.2.5'])
  assert.is((await fetch(`${v5.url}/api/auth`)).status, 404)
})

Pihole('a double restarted on its folder keeps its records; stop ends only its own dnsmasq', async () => {
  const dir = stateDir()
  const first = await startPihole({ stateDir: dir, ip: '127.0.4.64', dnsPort: 1053 })
  await first.seed({ hosts: ['10.0.0.9 nas.homelab.local'] })
  await first.stop()
  await first.stop()
  const second = await startPihole({ stateDir: dir, ip: '127.0.4.64', dnsPort: 1053 })
  try {
    assert.equal(second.records().hosts, ['10.0.0.9 nas.homelab.local'])
    assert.equal(await resolver(second).resolve4('nas.homelab.local'), ['10.0.0.9'])
  } finally {
    await second.stop()
  }
  const ours = readdirSync('/proc').filter((p) => /^\d+$/.test(p)).map((p) => { try { return readFileSync(`/proc/${p}/cmdline`, 'utf8') } catch { return '' } })
  assert.not.ok(ours.some((c) => c.includes(dir)), 'no dnsmasq left for the stopped double')
  assert.ok(ours.some((c) => c.includes('127.0.4.61')), 'the other doubles keep running')
})

Pihole('a second double on an address:port another dnsmasq holds fails naming the address; the first keeps answering', async () => {
  const holder = await startPihole({ stateDir: stateDir(), ip: '127.0.4.231', dnsPort: 1053 })
  const dir = stateDir()
  try {
    await holder.seed({ hosts: ['10.0.0.7 held.homelab.local'] })
    // Stopped at once if it does start, so a regression fails here rather than hanging the file on its server.
    const refused: unknown = await startPihole({ stateDir: dir, ip: '127.0.4.231', dnsPort: 1053, httpPort: 8080 }).then((second) => second.stop(), (error: unknown) => error)
    assert.instance(refused, LabStateError, 'the second double started on a taken address')
    assert.match((refused as Error).message, /^dnsmasq cannot listen on 127\.0\.4\.231:1053: another process holds that address \(.*Address already in use\)/)
    assert.equal(await resolver(holder).resolve4('held.homelab.local'), ['10.0.0.7'])
  } finally {
    await holder.stop()
  }
  const cmdlines = readdirSync('/proc').filter((p) => /^\d+$/.test(p)).map((p) => { try { return readFileSync(`/proc/${p}/cmdline`, 'utf8') } catch { return '' } })
  assert.not.ok(cmdlines.some((c) => c.includes(dir)), 'the refused double left a dnsmasq behind')
})

Pihole.run()
