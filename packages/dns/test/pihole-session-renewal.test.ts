import { mkdtempSync } from 'node:fs'
import { tmpdir } from 'node:os'
import { join } from 'node:path'
import { createKubeClient, describeError, parseConfig, type KubeClient } from '@homelab/core'
import { labOptionsFromEnv, reportHookErrors, startPihole, useLab, type PiholeDouble } from '@homelab/lab'
import { suite } from 'uvu'
import * as assert from 'uvu/assert'
import { piholeConnector, PiholeError, runDnsTask, type PiholeConnector } from '../src/index.js'
import { captureIo, writeTestConfig } from './dns-test-lab.js'

type Ctx = { kube: KubeClient; kubeconfig: string; namespace: string; pihole: PiholeDouble }
const Renewal = suite<Ctx>('a Pi-hole session FTL ends in the middle of a run', {} as Ctx)

const PASSWORD = 'renewal-test secret 77'
const TRAEFIK_IP = '127.0.2.1'
const NAMES = ['registry.homelab.local', 'registry-ui.homelab.local', 'localstack.homelab.local']
const stateDir = () => mkdtempSync(join(tmpdir(), 'dns-renewal-pihole-'))

Renewal.before(reportHookErrors(async (ctx) => {
  const lab = await useLab(labOptionsFromEnv(process.env))
  ctx.kubeconfig = lab.kubeconfigPath
  ctx.kube = createKubeClient({ kubeconfigPath: lab.kubeconfigPath, fieldManager: 'dns-test' })
  ctx.namespace = `dns-renewal-${Date.now()}`
  ctx.pihole = await startPihole({ stateDir: stateDir(), ip: '127.0.4.151', dnsPort: 1053, password: PASSWORD })
}))

Renewal.after(async (ctx) => {
  await ctx.pihole?.stop()
  await ctx.kube?.delete({ apiVersion: 'v1', kind: 'Namespace', name: ctx.namespace })
})

function connector(pihole: PiholeDouble): PiholeConnector {
  const config = parseConfig(JSON.stringify({ dns: { piholes: [{ url: pihole.url, password: PASSWORD }] }, nodes: [] }), { sourceName: 'homelab.yaml', baseDir: tmpdir(), env: {} })
  return piholeConnector({ pihole: config.dns.piholes[0]!, index: 0, timeoutMs: 2000, retries: { attempts: 2, baseDelayMs: 20, maxDelayMs: 50 } })
}

async function run(ctx: Ctx, pihole: PiholeDouble, dns: Record<string, unknown> = {}) {
  const config = writeTestConfig({ kubeconfig: ctx.kubeconfig, namespace: ctx.namespace, piholes: [{ url: pihole.url, password: PASSWORD, dnsPort: 1053 }], dns })
  const captured = captureIo(['--config', config])
  return { code: await runDnsTask('sync', captured.io), text: captured.text() }
}

/** FTL allows three logins a second: each test starts in a second of its own. */
const nextSecond = () => new Promise((r) => setTimeout(r, 1000 - (Date.now() % 1000) + 20))
const statuses = (p: PiholeDouble, method: string, path: string) => p.requests.entries.filter((e) => e.method === method && e.path === path).map((e) => e.status)
const logins = (p: PiholeDouble) => p.requests.count('POST', '/api/auth')
const hostPath = (name: string) => `/api/config/dns/hosts/${TRAEFIK_IP} ${name}`

Renewal('a session ended between two reads: one more login, the read sent again, and the new session is the one logged out', async ({ pihole }) => {
  await nextSecond()
  pihole.requests.reset()
  const { opened, closed } = pihole.sessions
  const c = connector(pihole)
  const [before, after] = await c.withSession(async (s) => {
    const first = await s.list()
    pihole.expireSessions()
    return [first, await s.list()]
  })
  assert.equal(after, before)
  assert.is(logins(pihole), 2, pihole.requests.summary().join('\n'))
  assert.equal(statuses(pihole, 'GET', '/api/config/dns/hosts'), [200, 401, 200])
  // A 204: the SID logged out was live, so it was the new one (the old one would get 401 "session expired").
  assert.equal(statuses(pihole, 'DELETE', '/api/auth'), [204])
  assert.is(pihole.sessions.opened - opened, 2)
  assert.is(pihole.sessions.closed - closed, 1)
  assert.is(pihole.sessions.open, 0)
  assert.equal(pihole.validationFailures, [])
})

Renewal('a write refused for an ended session is sent once more after a new login, and stored once', async ({ pihole }) => {
  await nextSecond()
  pihole.requests.reset()
  const record = { type: 'A' as const, name: 'write-once.homelab.local', ip: TRAEFIK_IP }
  const c = connector(pihole)
  const outcome = await c.withSession(async (s) => {
    await s.list()
    pihole.expireSessions()
    return s.add(record)
  })
  assert.is(outcome, 'added')
  assert.equal(statuses(pihole, 'PUT', hostPath(record.name)), [401, 201], pihole.requests.summary().join('\n'))
  assert.equal(pihole.records().hosts.filter((h) => h === `${TRAEFIK_IP} ${record.name}`), [`${TRAEFIK_IP} ${record.name}`])
  assert.is(logins(pihole), 2)
  assert.is(pihole.sessions.open, 0)
  await c.withSession(async (s) => {
    pihole.expireSessions()
    assert.is(await s.remove({ record, stored: `${TRAEFIK_IP} ${record.name}`, shared: false }), 'removed')
  })
  assert.equal(statuses(pihole, 'DELETE', hostPath(record.name)), [401, 204])
  assert.not.ok(pihole.records().hosts.some((h) => h.includes(record.name)))
})

Renewal('sync whose session ends before its first write: the run converges with one extra login, each record written once, the new session logged out', async (ctx) => {
  const { pihole } = ctx
  await nextSecond()
  pihole.requests.reset()
  pihole.expireSessions({ before: { method: 'PUT', pathPrefix: '/api/config/dns/hosts' } })
  const { code, text } = await run(ctx, pihole)
  assert.is(code, 0, text)
  assert.match(text, /changed +dns records on http:\/\/127\.0\.4\.151/)
  // Said in the output, once, under the step working in the session then.
  assert.equal(text.match(/warning +dns: http:\/\/127\.0\.4\.151: the Pi-hole ended this run's session \(.*\); logged in again/g)?.length, 1, text)
  for (const name of NAMES) assert.equal(pihole.records().hosts.filter((h) => h === `${TRAEFIK_IP} ${name}`).length, 1, name)
  const puts = pihole.requests.entries.filter((e) => e.method === 'PUT')
  assert.equal(puts.map((e) => e.status).sort(), [201, 201, 201, 401], pihole.requests.summary().join('\n'))
  // The refused PUT and its second sending are the same item; no other item was sent twice.
  assert.is(new Set(puts.map((e) => e.path)).size, 3)
  assert.is(logins(pihole), 2)
  assert.equal(statuses(pihole, 'DELETE', '/api/auth'), [204])
  assert.is(pihole.sessions.open, 0)
  assert.not.ok(text.includes(PASSWORD))
  await nextSecond()
  pihole.requests.reset()
  assert.match((await run(ctx, pihole)).text, /recap dns: ok=\d+ changed=0/)
  assert.equal(pihole.requests.writes(), [])
})

Renewal('sessions that end again right after each new login: a clear error naming the Pi-hole and what to check, one re-login only, no password in the output', async (ctx) => {
  const { pihole } = ctx
  await nextSecond()
  pihole.requests.reset()
  pihole.expireSessions({ before: { method: 'GET', pathPrefix: '/api/config' }, times: Infinity })
  try {
    const { code, text } = await run(ctx, pihole)
    assert.is(code, 1, text)
    assert.match(text, /Pi-hole http:\/\/127\.0\.4\.151: GET \/api\/config\/dns\/hosts → 401 \(unauthorized: Unauthorized\); refused again right after logging in anew/)
    assert.match(text, /Check the Pi-hole's webserver\.session\.timeout and webserver\.api settings/)
    assert.match(text, /whether its password \(or an app password\) is being changed/)
    assert.not.ok(text.includes(PASSWORD))
    assert.is(logins(pihole), 2, pihole.requests.summary().join('\n'))
    assert.equal(statuses(pihole, 'GET', '/api/config/dns/hosts'), [401, 401])
    assert.equal(pihole.requests.writes(), [])
    assert.is(pihole.sessions.open, 0)
    await nextSecond()
    const error = await connector(pihole).withSession((s) => s.list()).then(() => assert.unreachable('expected a PiholeError'), (e: unknown) => e)
    assert.instance(error, PiholeError)
    assert.is((error as PiholeError).status, 401)
    assert.not.ok(describeError(error).includes(PASSWORD))
  } finally {
    pihole.expireSessions({ before: {}, times: 0 })
  }
})

Renewal('the password changed on the Pi-hole mid-run: logging in again fails, asking whether it was changed, showing neither password', async ({ pihole }) => {
  await nextSecond()
  pihole.requests.reset()
  const changed = 'renewal-test new secret 78'
  const error = await connector(pihole).withSession(async (s) => {
    await s.list()
    pihole.changePassword(changed)
    return s.add({ type: 'A', name: 'never.homelab.local', ip: TRAEFIK_IP })
  }).then(() => assert.unreachable('expected a PiholeError'), (e: unknown) => e)
  try {
    assert.instance(error, PiholeError)
    const message = describeError(error)
    assert.match(message, /^Pi-hole http:\/\/127\.0\.4\.151: PUT \/api\/config\/dns\/hosts\/127\.0\.2\.1%20never\.homelab\.local → 401: the session had ended, and logging in again failed \(was the password changed on the Pi-hole\?\): POST \/api\/auth → 401 wrong password \(password incorrect\); check dns\.piholes\[0\]\.password/)
    assert.is((error as PiholeError).key, 'dns.piholes[0].password')
    for (const secret of [PASSWORD, changed]) assert.not.ok(message.includes(secret))
    assert.equal(statuses(pihole, 'PUT', hostPath('never.homelab.local')), [401])
    assert.not.ok(pihole.records().hosts.some((h) => h.includes('never.homelab.local')))
  } finally {
    pihole.changePassword(PASSWORD)
  }
})

Renewal('FTL 6.2 without webserver.session.restore loses the session at each CNAME re-exec: sync logs in again each time and converges in one run', async (ctx) => {
  const pihole = await startPihole({ stateDir: stateDir(), ip: '127.0.4.152', dnsPort: 1053, password: PASSWORD, ftl: '6.2', sessionRestore: false, restartMs: 500 })
  try {
    await nextSecond()
    const sync = await run(ctx, pihole, { records: 'cname' })
    assert.is(sync.code, 0, sync.text)
    assert.is(pihole.records().cnameRecords.length, 3)
    // How many requests meet a re-exec depends on timing; each refused one is followed by one login and sent once more.
    const log = pihole.requests.entries
    const refused = log.flatMap((e, i) => (e.status === 401 && e.path !== '/api/auth' ? [i] : []))
    assert.ok(refused.length > 0, pihole.requests.summary().join('\n'))
    for (const i of refused) {
      assert.equal([log[i + 1]?.method, log[i + 1]?.path, log[i + 1]?.status], ['POST', '/api/auth', 200])
      assert.equal([log[i + 2]?.method, log[i + 2]?.path], [log[i]!.method, log[i]!.path])
      assert.is.not(log[i + 2]?.status, 401)
    }
    assert.is(logins(pihole), 1 + refused.length)
    assert.equal(pihole.requests.entries.filter((e) => e.method === 'PUT' && e.status === 201).length, 4)
    assert.equal(statuses(pihole, 'DELETE', '/api/auth'), [204])
    assert.is(pihole.sessions.open, 0)
    assert.not.ok(sync.text.includes(PASSWORD))
    assert.equal(pihole.validationFailures, [])
  } finally {
    await pihole.stop()
  }
})

Renewal.run()
