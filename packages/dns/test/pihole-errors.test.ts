import { mkdtempSync } from 'node:fs'
import { tmpdir } from 'node:os'
import { join } from 'node:path'
import { parseConfig, ToolClients } from '@homelab/core'
import { startPihole, type PiholeDouble, reportHookErrors } from '@homelab/lab'
import { suite } from 'uvu'
import * as assert from 'uvu/assert'
import { piholeConnector, PiholeError, type PiholeConnector } from '../src/index.js'

type Ctx = { locked: PiholeDouble; tight: PiholeDouble; app: PiholeDouble; sudo: PiholeDouble; tls: PiholeDouble }
const Errors = suite<Ctx>('Pi-hole errors a user can act on', {} as Ctx)

const PASSWORD = 'errors-test password 9'
const APP_PASSWORD = 'errors-test app password'
const stateDir = () => mkdtempSync(join(tmpdir(), 'dns-errors-pihole-'))

Errors.before(reportHookErrors(async (ctx) => {
  ctx.locked = await startPihole({ stateDir: stateDir(), ip: '127.0.4.41', dnsPort: 1053, password: PASSWORD })
  ctx.tight = await startPihole({ stateDir: stateDir(), ip: '127.0.4.42', dnsPort: 1053, password: PASSWORD, maxSessions: 1 })
  ctx.app = await startPihole({ stateDir: stateDir(), ip: '127.0.4.43', dnsPort: 1053, password: PASSWORD, appPassword: APP_PASSWORD })
  ctx.tls = await startPihole({ stateDir: stateDir(), ip: '127.0.4.44', dnsPort: 1053, https: true })
  ctx.sudo = await startPihole({ stateDir: stateDir(), ip: '127.0.4.45', dnsPort: 1053, password: PASSWORD, appPassword: APP_PASSWORD, appSudo: true })
}))

Errors.after(async (ctx) => {
  for (const p of [ctx.locked, ctx.tight, ctx.app, ctx.sudo, ctx.tls]) await p?.stop()
})

/** A connector built from a real homelab.yaml parse, as the tasks build it. */
function connector(pihole: Record<string, unknown>, timeoutMs = 2000): PiholeConnector {
  return piholeConnector({ pihole: piholeConfig(pihole), index: 0, timeoutMs, retries: { attempts: 2, baseDelayMs: 20, maxDelayMs: 50 } })
}

function piholeConfig(pihole: Record<string, unknown>) {
  return parseConfig(JSON.stringify({ dns: { piholes: [pihole] }, nodes: [] }), { sourceName: 'homelab.yaml', baseDir: tmpdir(), env: {} }).dns.piholes[0]!
}

async function failure(work: () => Promise<unknown>): Promise<PiholeError> {
  try {
    await work()
  } catch (error) {
    assert.instance(error, PiholeError)
    return error as PiholeError
  }
  return assert.unreachable('expected a PiholeError') as never
}
const nextSecond = () => new Promise((r) => setTimeout(r, 1000 - (Date.now() % 1000) + 20))
const list = (c: PiholeConnector) => c.withSession((s) => s.list())

Errors('a wrong password: 401, naming the Pi-hole, the request and dns.piholes[0].password, never the password', async ({ locked }) => {
  await nextSecond()
  const wrong = 'not-the-password-123'
  const error = await failure(() => list(connector({ url: locked.url, password: wrong })))
  assert.match(error.message, /^Pi-hole http:\/\/127\.0\.4\.41: POST \/api\/auth → 401 wrong password \(password incorrect\); check dns\.piholes\[0\]\.password$/)
  assert.is(error.status, 401)
  assert.not.ok(error.message.includes(wrong))
  const none = await failure(() => list(connector({ url: locked.url })))
  assert.match(none.message, /this Pi-hole has a password: set dns\.piholes\[0\]\.password/)
})

Errors('all seats taken: 429 api_seats_exceeded says to raise webserver.api.max_sessions', async ({ tight }) => {
  await nextSecond()
  const holder = await fetch(`${tight.url}/api/auth`, { method: 'POST', headers: { 'content-type': 'application/json' }, body: JSON.stringify({ password: PASSWORD }) })
  const sid = ((await holder.json()) as { session: { sid: string } }).session.sid
  const error = await failure(() => list(connector({ url: tight.url, password: PASSWORD })))
  assert.match(error.message, /POST \/api\/auth → 429 \(api_seats_exceeded: API seats exceeded; increase webserver\.api\.max_sessions\); every API seat is taken: raise webserver\.api\.max_sessions/)
  await fetch(`${tight.url}/api/auth`, { method: 'DELETE', headers: { 'X-FTL-SID': sid } })
})

Errors('the login rate limit (429 rate_limiting) is waited out and retried once', async ({ locked }) => {
  await nextSecond()
  for (let i = 0; i < 3; i++) await fetch(`${locked.url}/api/auth`, { method: 'POST', headers: { 'content-type': 'application/json' }, body: JSON.stringify({ password: 'x' }) })
  locked.requests.reset()
  const entries = await list(connector({ url: locked.url, password: PASSWORD }))
  assert.ok(Array.isArray(entries))
  assert.equal(locked.requests.entries.filter((e) => e.path === '/api/auth' && e.method === 'POST').map((e) => e.status), [429, 200])
  assert.is(locked.sessions.open, 0)
})

Errors('an app password without app_sudo: 403 on the write, naming app_sudo; the session is still closed', async ({ app }) => {
  await nextSecond()
  const c = connector({ url: app.url, password: APP_PASSWORD })
  const error = await failure(() => c.withSession((s) => s.add({ type: 'A', name: 'x.homelab.local', ip: '127.0.2.1' })))
  assert.match(error.message, /PUT \/api\/config\/dns\/hosts\/127\.0\.2\.1%20x\.homelab\.local → 403 \(forbidden: Unable to change configuration \(read-only\)/)
  assert.match(error.message, /set webserver\.api\.app_sudo = true/)
  assert.is(app.sessions.open, 0)
  assert.is(app.sessions.closed, app.sessions.opened)
})

Errors('a session says whether it may change records: not an app password without app_sudo; the admin password, or one with it', async ({ app, sudo }) => {
  await nextSecond()
  const refusal = (url: string, password: string) => connector({ url, password }).withSession((s) => s.writeRefusal())
  assert.is(await refusal(app.url, APP_PASSWORD), 'dns.piholes[0].password is an app password, and the Pi-hole\'s webserver.api.app_sudo is false: it may read the records but not change them')
  app.requests.reset()
  assert.is(await refusal(app.url, PASSWORD), undefined)
  assert.is(app.requests.count('GET', '/api/config/webserver/api/app_sudo'), 0, 'the admin password may always write: nothing to ask')
  assert.is(await refusal(sudo.url, APP_PASSWORD), undefined)
  for (const p of [app, sudo]) assert.equal(p.validationFailures, [], 'every request and answer as the OpenAPI spec has it')
  // And it is so: the app password with app_sudo writes.
  await connector({ url: sudo.url, password: APP_PASSWORD }).withSession((s) => s.add({ type: 'A', name: 'sudo.homelab.local', ip: '127.0.2.1' }))
  assert.ok(sudo.records().hosts.includes('127.0.2.1 sudo.homelab.local'))
})

Errors('a 500 names the request and status after the retries; the session is closed', async ({ locked }) => {
  await nextSecond()
  await locked.setFault({ kind: 'status', status: 500, match: { method: 'GET', pathPrefix: '/api/config' } })
  try {
    const error = await failure(() => list(connector({ url: locked.url, password: PASSWORD })))
    assert.match(error.message, /^Pi-hole http:\/\/127\.0\.4\.41: GET \/api\/config\/dns\/hosts → 500 Internal Server Error \(after 2 attempts\)/)
    assert.is(locked.sessions.open, 0)
  } finally {
    await locked.setFault(undefined)
  }
})

Errors('the tasks of one run share one login per Pi-hole; the run logs out when it closes its connections', async ({ locked }) => {
  await nextSecond()
  const clients = new ToolClients()
  const pihole = piholeConfig({ url: locked.url, password: PASSWORD })
  // Two tasks (preflight, then sync) each build their own connector from the run's one config.
  const [preflight, sync] = [0, 1].map(() => piholeConnector({ pihole, index: 0, timeoutMs: 2000, retries: { attempts: 2, baseDelayMs: 20, maxDelayMs: 50 }, shared: clients.shared }))
  locked.requests.reset()
  const opened = locked.sessions.opened
  await list(preflight!)
  await Promise.all([list(sync!), list(sync!)])
  assert.is(locked.requests.count('POST', '/api/auth'), 1, locked.requests.summary().join('\n'))
  assert.is(locked.sessions.open, 1)
  await clients.close()
  assert.is(locked.sessions.open, 0)
  assert.is(locked.sessions.opened - opened, 1)
})

Errors('a shared login that saw an error is ended at once, and the next step logs in anew', async ({ locked }) => {
  await nextSecond()
  const clients = new ToolClients()
  const c = piholeConnector({ pihole: piholeConfig({ url: locked.url, password: PASSWORD }), index: 0, timeoutMs: 2000, retries: { attempts: 1, baseDelayMs: 20, maxDelayMs: 50 }, shared: clients.shared })
  locked.requests.reset()
  await locked.setFault({ kind: 'status', status: 500, match: { method: 'GET', pathPrefix: '/api/config' } })
  try {
    await failure(() => list(c))
  } finally {
    await locked.setFault(undefined)
  }
  assert.is(locked.sessions.open, 0)
  assert.ok(Array.isArray(await list(c)))
  assert.is(locked.requests.count('POST', '/api/auth'), 2)
  assert.is(locked.sessions.open, 1)
  await clients.close()
  assert.is(locked.sessions.open, 0)
})

const NOT_A_PIHOLE = /; expected JSON from the Pi-hole v6 API at (\S+); check that dns\.piholes\[0\]\.url points at Pi-hole v6's web server, not a proxy or a login page; if it runs Pi-hole v5, set dns\.piholes\[0\]\.version: v5$/

/** The message for `body` answered to `method pathPrefix`, the fault cleared afterwards. */
async function garbageMessage(pihole: PiholeDouble, body: string, match: { method: string; pathPrefix: string }, config: Record<string, unknown> = {}): Promise<PiholeError> {
  await pihole.setFault({ kind: 'body', body, match })
  try {
    return await failure(() => list(connector({ url: pihole.url, password: PASSWORD, ...config })))
  } finally {
    await pihole.setFault(undefined)
  }
}

Errors('a login page instead of the config API: names the Pi-hole and its key, what was expected, a short scrubbed excerpt and what to check', async ({ locked }) => {
  await nextSecond()
  const page = `<html><head><title>Sign in</title></head><body>wrong: ${PASSWORD} <form><input name="sid" value="4Qmv1x"></form>${'<p>filler</p>'.repeat(40)}</body></html>`
  const error = await garbageMessage(locked, page, { method: 'GET', pathPrefix: '/api/config' })
  assert.match(error.message, /^Pi-hole http:\/\/127\.0\.4\.41 \(dns\.piholes\[0\]\): GET \/api\/config\/dns\/hosts → 200 OK with a body that is not JSON `<html><head><title>Sign in/)
  assert.is(NOT_A_PIHOLE.exec(error.message)?.[1], '/api/config/dns/hosts')
  const excerpt = /`(.*)`/.exec(error.message)?.[1] ?? ''
  assert.ok(excerpt.length <= 81, `excerpt of ${excerpt.length} characters: ${excerpt}`)
  assert.not.ok(error.message.includes(PASSWORD), 'the password echoed by the page reached the message')
  assert.not.ok(error.message.includes('filler'), 'the whole page reached the message')
  assert.is(error.key, 'dns.piholes[0].url')
  assert.is(locked.sessions.open, 0)
})

Errors('truncated JSON and JSON of the wrong shape from the config API: the same advice, saying what was wrong', async ({ locked }) => {
  await nextSecond()
  const truncated = await garbageMessage(locked, '{"config": {"dns": {"hosts": [', { method: 'GET', pathPrefix: '/api/config' })
  assert.match(truncated.message, /GET \/api\/config\/dns\/hosts → 200 OK with a body that is not JSON `\{"config": \{"dns": \{"hosts": \[`; expected JSON/)
  assert.match(truncated.message, NOT_A_PIHOLE)
  await nextSecond()
  const shape = await garbageMessage(locked, '{"config": {"dns": {"hosts": "10.0.0.1 x"}}}', { method: 'GET', pathPrefix: '/api/config' })
  assert.match(shape.message, /GET \/api\/config\/dns\/hosts → 200 OK with JSON without a config\.dns\.hosts list `\{"config": \{"dns": \{"hosts": "10\.0\.0\.1 x"\}\}\}`/)
  assert.match(shape.message, NOT_A_PIHOLE)
  assert.is(locked.sessions.open, 0)
})

Errors('a proxy answering the login with 200 and no session: names /api/auth and never shows a session id', async ({ locked }) => {
  await nextSecond()
  const error = await garbageMessage(locked, '{"ok": true, "sid": "proxy-session-id-123"}', { method: 'POST', pathPrefix: '/api/auth' }, { version: 'v6' })
  assert.match(error.message, /^Pi-hole http:\/\/127\.0\.4\.41 \(dns\.piholes\[0\]\): POST \/api\/auth → 200 OK with JSON without a session object `\{"ok": true, "sid": \*\*\*\*\}`/)
  assert.is(NOT_A_PIHOLE.exec(error.message)?.[1], '/api/auth')
  assert.not.ok(error.message.includes('proxy-session-id-123'))
})

Errors('a Pi-hole that never answers: timed out, naming the request', async ({ locked }) => {
  await locked.setFault({ kind: 'hang' })
  try {
    const error = await failure(() => list(connector({ url: locked.url, password: PASSWORD, version: 'v6' }, 300)))
    assert.match(error.message, /Pi-hole http:\/\/127\.0\.4\.41: POST \/api\/auth → timed out after 300 ms/)
  } finally {
    await locked.setFault(undefined)
  }
})

Errors("HTTPS with the Pi-hole's own certificate: refused by default, trusted with its CA, or knowingly unchecked", async ({ tls }) => {
  const error = await failure(() => list(connector({ url: tls.url })))
  assert.match(error.message, /TLS verification failed/)
  assert.match(error.message, /set dns\.piholes\[0\]\.ca \(or caFile\) to it, or, knowingly, dns\.piholes\[0\]\.insecureSkipTlsVerify: true/)
  assert.ok(Array.isArray(await list(connector({ url: tls.url, ca: tls.caPem }))))
  assert.ok(Array.isArray(await list(connector({ url: tls.url, insecureSkipTlsVerify: true }))))
  assert.equal(tls.validationFailures, [])
})

Errors.run()
