// Faults of the Pi-holes, on the lab's Pi-hole doubles (real dnsmasq behind them): the broken one fails by URL, the
// healthy one converges, records nobody gave us survive, and the next run finishes (changed, then changed=0).
import { mkdtempSync } from 'node:fs'
import { tmpdir } from 'node:os'
import { join } from 'node:path'
import { runDnsTask, type DnsVerb } from '@homelab/dns'
import { type PiholeDouble, reportHookErrors, startPihole } from '@homelab/lab'
import { suite } from 'uvu'
import * as assert from 'uvu/assert'
import { deleteNamespace, uniqueName, useLabKube, type LabKube } from './support/lab-kube.js'
import { KNOWN_SECRETS, LeakScan } from './support/leak-scan.js'
import { reliabilityCase } from './support/reliability-tally.js'
import { hasStackTrace, recapOf, runWithIo, writeConfigFile, type ToolRun } from './support/tool-run.js'

type Ctx = { lab: LabKube; namespace: string; healthy: PiholeDouble; broken: PiholeDouble | undefined; nextIp: number; scan: LeakScan; all: PiholeDouble[] }
const Pihole = suite<Ctx>('Pi-hole faults: one fails by URL, the other converges, the next run finishes', {} as Ctx)

const FOREIGN = '10.0.0.9 nas.homelab.local'
const TRAEFIK_IP = '127.0.2.1'
const OURS = ['registry.homelab.local', 'registry-ui.homelab.local', 'localstack.homelab.local'].map((n) => `${TRAEFIK_IP} ${n}`)
const DNS_PORT = 1053

async function newPihole(ctx: Ctx, options: { https?: boolean; maxSessions?: number; appPassword?: string } = {}): Promise<PiholeDouble> {
  const ip = `127.0.4.${ctx.nextIp++}`
  const pihole = await startPihole({ stateDir: mkdtempSync(join(tmpdir(), 'reliability-pihole-')), ip, dnsPort: DNS_PORT, password: KNOWN_SECRETS.piholePassword, ...options })
  await pihole.seed({ hosts: [FOREIGN] })
  ctx.all.push(pihole)
  return pihole
}

function configFor(ctx: Ctx, broken: PiholeDouble, extra: Record<string, unknown> = {}): string {
  return writeConfigFile({
    domain: 'homelab.local',
    ingress: { ip: TRAEFIK_IP },
    kubernetes: { kubeconfig: ctx.lab.kubeconfigPath, namespace: ctx.namespace },
    dns: {
      piholes: [
        { url: broken.url, name: 'pihole-broken', password: KNOWN_SECRETS.piholePassword, dnsPort: DNS_PORT, ...extra },
        { url: ctx.healthy.url, name: 'pihole-healthy', password: KNOWN_SECRETS.piholePassword, dnsPort: DNS_PORT },
      ],
    },
    nodes: [],
    timeouts: { http: '2s' },
    retries: { attempts: 2, baseDelay: '50ms', maxDelay: '100ms' },
  })
}

const dnsRun = (ctx: Ctx, verb: DnsVerb, configPath: string, args: string[] = []): Promise<ToolRun> =>
  runWithIo({ argv: ['--config', configPath, ...args], scan: ctx.scan, label: `dns ${verb}` }, (io) => runDnsTask(verb, io))

/** The promises every Pi-hole fault keeps, checked after the faulty run. */
function assertFailedAlone(ctx: Ctx, broken: PiholeDouble, run: ToolRun, why: RegExp): void {
  assert.is(run.code, 1, run.output)
  assert.match(run.output, new RegExp(`failed\\s+dns records on pihole-broken \\(${broken.url.replaceAll('.', '\\.')}\\)`))
  assert.match(run.output, why)
  assert.not.ok(hasStackTrace(run.output), run.output)
  for (const name of OURS) assert.ok(ctx.healthy.records().hosts.includes(name), `the healthy Pi-hole lacks ${name}`)
  for (const p of [broken, ctx.healthy]) assert.ok(p.records().hosts.includes(FOREIGN), `the foreign record on ${p.url} is gone`)
}

/** After the fault is cleared: the next run changes the broken Pi-hole, the one after changes nothing. */
async function assertNextRunsConverge(ctx: Ctx, broken: PiholeDouble, configPath: string): Promise<void> {
  await broken.setFault(undefined)
  const next = await dnsRun(ctx, 'sync', configPath)
  assert.is(next.code, 0, next.output)
  assert.ok((recapOf(next.output, 'dns')?.changed ?? 0) > 0, next.output)
  assert.equal(broken.records().hosts, [FOREIGN, ...OURS])
  const writes = broken.requests.writes().length
  const again = await dnsRun(ctx, 'sync', configPath)
  assert.is(again.code, 0, again.output)
  assert.is(recapOf(again.output, 'dns')?.changed, 0, again.output)
  assert.is(broken.requests.writes().length, writes, 'a converged sync wrote to the Pi-hole')
  assert.equal(broken.validationFailures, [])
}

Pihole.before(reportHookErrors(async (ctx) => {
  ctx.lab = await useLabKube()
  ctx.namespace = uniqueName('rel-dns')
  ctx.scan = new LeakScan()
  ctx.nextIp = 91
  ctx.all = []
  ctx.healthy = await newPihole(ctx)
  ctx.scan.startArgv()
}))

Pihole.before.each(async (ctx) => {
  ctx.broken = await newPihole(ctx)
})

Pihole.after(async (ctx) => {
  ctx.scan?.stopArgv()
  for (const p of ctx.all ?? []) await p.stop()
  await deleteNamespace(ctx.lab?.kube, ctx.namespace)
})

reliabilityCase(Pihole, 'fault', 'Pi-hole down (connection refused): that Pi-hole fails by URL, the other converges, next run finishes', async (ctx) => {
  const broken = ctx.broken!
  const configPath = configFor(ctx, broken)
  await broken.setFault({ kind: 'down' })
  assertFailedAlone(ctx, broken, await dnsRun(ctx, 'sync', configPath), new RegExp(`${broken.url.replaceAll('.', '\\.')}.*connection refused`, 's'))
  await assertNextRunsConverge(ctx, broken, configPath)
})

reliabilityCase(Pihole, 'fault', 'Pi-hole answering 401 on login: names dns.piholes[0].password, never the password; next run finishes', async (ctx) => {
  const broken = ctx.broken!
  const configPath = configFor(ctx, broken)
  await broken.setFault({ kind: 'status', status: 401, match: { method: 'POST', pathPrefix: '/api/auth' } })
  assertFailedAlone(ctx, broken, await dnsRun(ctx, 'sync', configPath), /POST \/api\/auth → 401.*check dns\.piholes\[0\]\.password/)
  await assertNextRunsConverge(ctx, broken, configPath)
})

reliabilityCase(Pihole, 'fault', 'Pi-hole answering 429 api_seats_exceeded: says to raise webserver.api.max_sessions; next run finishes', async (ctx) => {
  const broken = ctx.broken!
  const configPath = configFor(ctx, broken)
  await broken.setFault({ kind: 'status', status: 429, match: { method: 'POST', pathPrefix: '/api/auth' } })
  assertFailedAlone(ctx, broken, await dnsRun(ctx, 'sync', configPath), /429.*max_sessions/)
  await assertNextRunsConverge(ctx, broken, configPath)
})

reliabilityCase(Pihole, 'fault', 'Pi-hole answering 429 rate_limiting on every login: fails naming the rate limit after the retries; next run finishes', async (ctx) => {
  const broken = ctx.broken!
  const configPath = configFor(ctx, broken)
  const rateLimited = JSON.stringify({ error: { key: 'rate_limiting', message: 'Rate-limiting login attempts', hint: null }, took: 0.001 })
  await broken.setFault({ kind: 'body', status: 429, body: rateLimited, match: { method: 'POST', pathPrefix: '/api/auth' } })
  assertFailedAlone(ctx, broken, await dnsRun(ctx, 'sync', configPath), /POST \/api\/auth → 429.*rate_limiting/)
  await assertNextRunsConverge(ctx, broken, configPath)
})

reliabilityCase(Pihole, 'fault', 'Pi-hole answering 500 on the record write: that Pi-hole fails naming the request, the other converges, next run finishes', async (ctx) => {
  const broken = ctx.broken!
  const configPath = configFor(ctx, broken)
  await broken.setFault({ kind: 'status', status: 500, match: { method: 'PUT', pathPrefix: '/api/config/dns/hosts' } })
  assertFailedAlone(ctx, broken, await dnsRun(ctx, 'sync', configPath), /PUT \/api\/config\/dns\/hosts\/.* → 500/)
  assert.equal(broken.records().hosts, [FOREIGN], 'a record was stored although every write failed')
  await assertNextRunsConverge(ctx, broken, configPath)
})

reliabilityCase(Pihole, 'fault', 'Pi-hole that never answers: timed out after timeouts.http, naming the request; the other converges; next run finishes', async (ctx) => {
  const broken = ctx.broken!
  const configPath = configFor(ctx, broken)
  await broken.setFault({ kind: 'hang' })
  assertFailedAlone(ctx, broken, await dnsRun(ctx, 'sync', configPath), /timed out after 2 s|timed out after 2000 ms|timed out after 2s/)
  await assertNextRunsConverge(ctx, broken, configPath)
})

reliabilityCase(Pihole, 'fault', 'Pi-hole that lost our record between runs: verify names the missing name, the next sync re-adds only it, then changed=0', async (ctx) => {
  const broken = ctx.broken!
  const configPath = configFor(ctx, broken)
  assert.is((await dnsRun(ctx, 'sync', configPath)).code, 0)
  // Someone deletes one of our records in the web UI: the FTL API, with a session of their own.
  const login = await fetch(`${broken.url}/api/auth`, { method: 'POST', headers: { 'content-type': 'application/json' }, body: JSON.stringify({ password: KNOWN_SECRETS.piholePassword }) })
  const { session } = (await login.json()) as { session: { sid: string } }
  const gone = await fetch(`${broken.url}/api/config/dns/hosts/${encodeURIComponent(OURS[1]!)}`, { method: 'DELETE', headers: { 'X-FTL-SID': session.sid } })
  assert.is(gone.status, 204)
  await fetch(`${broken.url}/api/auth`, { method: 'DELETE', headers: { 'X-FTL-SID': session.sid } })
  const verify = await dnsRun(ctx, 'verify', configPath)
  assert.is(verify.code, 1, verify.output)
  assert.match(verify.output, /registry-ui\.homelab\.local/)
  const writes = broken.requests.writes().length
  const sync = await dnsRun(ctx, 'sync', configPath)
  assert.is(sync.code, 0, sync.output)
  assert.is(broken.requests.writes().length - writes, 1, 'more than the lost record was written')
  assert.equal(broken.records().hosts.sort(), [FOREIGN, ...OURS].sort())
  const again = await dnsRun(ctx, 'sync', configPath)
  assert.is(recapOf(again.output, 'dns')?.changed, 0, again.output)
  assert.is(broken.requests.writes().length - writes, 1, 'a converged sync wrote to the Pi-hole')
})

reliabilityCase(Pihole, 'fault', 'HTTPS Pi-hole with a CA that did not sign it: refused (not retried) saying to set ca or caFile; next run with the right CA finishes', async (ctx) => {
  const broken = await newPihole(ctx, { https: true })
  const other = await newPihole(ctx, { https: true })
  const wrong = configFor(ctx, broken, { ca: other.caPem })
  const run = await dnsRun(ctx, 'sync', wrong)
  assertFailedAlone(ctx, broken, run, /TLS verification failed.*dns\.piholes\[0\]\.ca \(or caFile\)/s)
  assert.is(broken.requests.entries.length, 0, 'a request got through an unverified TLS connection')
  await assertNextRunsConverge(ctx, broken, configFor(ctx, broken, { ca: broken.caPem }))
})

reliabilityCase(Pihole, 'fault', 'Pi-hole app password without app_sudo (403 on writes): names webserver.api.app_sudo; the session is closed; with the password the next run finishes', async (ctx) => {
  const appPassword = 'rel-app-password-not-secret'
  const broken = await newPihole(ctx, { appPassword })
  const run = await dnsRun(ctx, 'sync', configFor(ctx, broken, { password: appPassword }))
  assertFailedAlone(ctx, broken, run, /403.*app_sudo/s)
  assert.is(broken.sessions.open, 0, 'the refused run left a session open')
  await assertNextRunsConverge(ctx, broken, configFor(ctx, broken))
})

reliabilityCase(Pihole, 'input', 'Pi-hole answering garbage JSON: a failed step naming the request, no stack trace; the other converges', async (ctx) => {
  const broken = ctx.broken!
  const configPath = configFor(ctx, broken)
  await broken.setFault({ kind: 'body', body: '{"config": {"dns": {"hosts": [', match: { method: 'GET', pathPrefix: '/api/config' } })
  assertFailedAlone(ctx, broken, await dnsRun(ctx, 'sync', configPath), /Pi-hole http:\/\/[\d.]+ \(dns\.piholes\[0\]\): GET \/api\/config\/dns\/hosts → 200 OK with a body that is not JSON `\{"config".*`; expected JSON from the Pi-hole v6 API at \/api\/config\/dns\/hosts; check that dns\.piholes\[0\]\.url points at Pi-hole v6's web server/)
  await assertNextRunsConverge(ctx, broken, configPath)
})

reliabilityCase(Pihole, 'input', 'Pi-hole answering JSON of the wrong shape (hosts not a list): a failed step naming the request; the other converges', async (ctx) => {
  const broken = ctx.broken!
  const configPath = configFor(ctx, broken)
  await broken.setFault({ kind: 'body', body: '{"config": {"dns": {"hosts": "10.0.0.1 x"}}, "took": 0.001}', match: { method: 'GET', pathPrefix: '/api/config' } })
  assertFailedAlone(ctx, broken, await dnsRun(ctx, 'sync', configPath), /GET \/api\/config\/dns\/hosts → 200 OK with JSON without a config\.dns\.hosts list.*set dns\.piholes\[0\]\.version: v5/)
  await assertNextRunsConverge(ctx, broken, configPath)
})

Pihole('insecureSkipTlsVerify is per Pi-hole and prints a warning naming it; the other Pi-hole stays verified', async (ctx) => {
  const broken = await newPihole(ctx, { https: true })
  const run = await dnsRun(ctx, 'sync', configFor(ctx, broken, { insecureSkipTlsVerify: true }))
  assert.is(run.code, 0, run.output)
  assert.match(run.output, /warning.*(TLS|certificate).*pihole-broken|warning.*pihole-broken.*(TLS|certificate)|pihole-broken.*insecureSkipTlsVerify/i)
  assert.is((run.output.match(/insecureSkipTlsVerify|not verif/gi) ?? []).length > 0, true, run.output)
})

Pihole('no Pi-hole fault printed the Pi-hole password, in output or in any process argv', (ctx) => {
  ctx.scan.stopArgv()
  assert.ok(ctx.scan.samples > 0, 'argv was never sampled')
  assert.equal(ctx.scan.leaks, [])
})

Pihole.run()
