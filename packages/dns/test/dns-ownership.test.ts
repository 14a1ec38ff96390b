import diagnosticsChannel from 'node:diagnostics_channel'
import { mkdtempSync } from 'node:fs'
import { tmpdir } from 'node:os'
import { join } from 'node:path'
import { createKubeClient, type KubeClient } from '@homelab/core'
import { labOptionsFromEnv, startPihole, useLab, type PiholeDouble, reportHookErrors } from '@homelab/lab'
import { suite } from 'uvu'
import * as assert from 'uvu/assert'
import { configMapOwnership, runDnsTask, type DnsVerb } from '../src/index.js'
import { captureIo, writeTestConfig } from './dns-test-lab.js'

type Ctx = { kube: KubeClient; kubeconfig: string; namespace: string; c: PiholeDouble; d: PiholeDouble }
const Owned = suite<Ctx>('dns ownership, conflicts and CNAMEs', {} as Ctx)

const NAS = '10.0.0.9 nas.homelab.local'
const FOREIGN = '10.0.0.5 registry.homelab.local'
const stateDir = () => mkdtempSync(join(tmpdir(), 'dns-owned-pihole-'))

Owned.before(reportHookErrors(async (ctx) => {
  const lab = await useLab(labOptionsFromEnv(process.env))
  ctx.kubeconfig = lab.kubeconfigPath
  ctx.kube = createKubeClient({ kubeconfigPath: lab.kubeconfigPath, fieldManager: 'dns-test' })
  ctx.namespace = `dns-owned-${Date.now()}`
  ctx.c = await startPihole({ stateDir: stateDir(), ip: '127.0.4.31', dnsPort: 1053 })
  ctx.d = await startPihole({ stateDir: stateDir(), ip: '127.0.4.32', dnsPort: 1053 })
  await ctx.c.seed({ hosts: [NAS, FOREIGN] })
}))

Owned.after(async (ctx) => {
  await ctx.c?.stop()
  await ctx.d?.stop()
  await ctx.kube?.delete({ apiVersion: 'v1', kind: 'Namespace', name: ctx.namespace })
})

async function run(ctx: Ctx, verb: DnsVerb, pihole: PiholeDouble, options: { argv?: string[]; dns?: Record<string, unknown>; extra?: Record<string, unknown> } = {}) {
  const config = writeTestConfig({ kubeconfig: ctx.kubeconfig, namespace: ctx.namespace, piholes: [{ url: pihole.url, dnsPort: 1053 }], dns: options.dns ?? {}, extra: options.extra ?? {} })
  const captured = captureIo(['--config', config, ...(options.argv ?? [])])
  return { code: await runDnsTask(verb, captured.io), text: captured.text() }
}

/** verify passes, and one more sync changes nothing and writes nothing to the Pi-hole. */
async function assertConverged(ctx: Ctx, pihole: PiholeDouble, options: Parameters<typeof run>[3] = {}): Promise<void> {
  const verify = await run(ctx, 'verify', pihole, options)
  assert.is(verify.code, 0, verify.text)
  pihole.requests.reset()
  assert.match((await run(ctx, 'sync', pihole, options)).text, /recap dns: ok=\d+ changed=0/)
  assert.equal(pihole.requests.writes(), [])
}

Owned('reads of the ownership ConfigMap asked together share one request; a read after an update sees it', async (ctx) => {
  const ownership = configMapOwnership(ctx.kube, { namespace: ctx.namespace, name: 'ownership-reads' })
  await ctx.kube.apply({ apiVersion: 'v1', kind: 'Namespace', metadata: { name: ctx.namespace } }, { dryRun: false, force: true })
  const gets: string[] = []
  const onRequest = (message: unknown) => {
    const { request } = message as { request: { method: string; path: string } }
    if (request.method === 'GET' && request.path.includes('/configmaps/ownership-reads')) gets.push(request.path)
  }
  diagnosticsChannel.subscribe('undici:request:create', onRequest)
  try {
    const [c, d] = await Promise.all([ownership.read(ctx.c.url), ownership.read(ctx.d.url)])
    assert.equal([c.owned.size, d.owned.size], [0, 0])
    assert.is(gets.length, 1, 'two Pi-hole steps starting together read the ConfigMap once')
    await ownership.update(ctx.c.url, { add: [`A ${NAS}`], remove: [] })
    assert.equal([...(await ownership.read(ctx.c.url)).owned], [`A ${NAS}`])
    assert.is(gets.length, 3, 'the update read afresh, and so did the read after it')
  } finally {
    diagnosticsChannel.unsubscribe('undici:request:create', onRequest)
  }
})

Owned('a foreign record on a wanted name stops that name with a message naming --adopt; the other names converge', async (ctx) => {
  const { code, text } = await run(ctx, 'sync', ctx.c)
  assert.is(code, 1)
  assert.match(text, /registry\.homelab\.local: Pi-hole has "10\.0\.0\.5 registry\.homelab\.local", not made by this tool/)
  assert.match(text, /--adopt/)
  assert.ok(ctx.c.records().hosts.includes(FOREIGN))
  assert.ok(ctx.c.records().hosts.includes('127.0.2.1 localstack.homelab.local'))
  assert.not.ok(ctx.c.records().hosts.includes('127.0.2.1 registry.homelab.local'))
})

Owned('the foreign records survive plan, a second sync, verify and prune', async (ctx) => {
  for (const verb of ['plan', 'sync', 'verify', 'prune'] as const) {
    const { text } = await run(ctx, verb, ctx.c, verb === 'prune' ? { extra: { localstack: { enabled: false } } } : {})
    if (verb === 'verify') assert.match(text, /registry\.homelab\.local: answered 10\.0\.0\.5, want 127\.0\.2\.1 only/)
    for (const h of [NAS, FOREIGN]) assert.ok(ctx.c.records().hosts.includes(h), `${h} after ${verb}`)
  }
})

Owned('sync --adopt takes the foreign record over and owns the name; the unrelated record stays', async (ctx) => {
  const { code, text } = await run(ctx, 'sync', ctx.c, { argv: ['--adopt'] })
  assert.is(code, 0, text)
  assert.match(text, /remove A registry\.homelab\.local → 10\.0\.0\.5 \(taken over\)/)
  assert.not.ok(ctx.c.records().hosts.includes(FOREIGN))
  assert.ok(ctx.c.records().hosts.includes(NAS))
  assert.is((await run(ctx, 'verify', ctx.c)).code, 0)
})

Owned('records: cname adopts an identical hand-made A record silently, adds CNAMEs, restarts DNS once', async (ctx) => {
  // As if an earlier run wrote this record and died before it could note the ownership.
  await ctx.d.seed({ hosts: ['127.0.2.1 ingress.homelab.local'] })
  ctx.d.requests.reset()
  const { code, text } = await run(ctx, 'sync', ctx.d, { dns: { records: 'cname' } })
  assert.is(code, 0, text)
  assert.match(text, /adopt A ingress\.homelab\.local → 127\.0\.2\.1/)
  assert.is(ctx.d.requests.count('PUT', '/api/config/dns/hosts'), 0)
  assert.is(ctx.d.requests.count('PUT', '/api/config/dns/cnameRecords'), 3)
  assert.is(ctx.d.requests.count('POST', '/api/action/restartdns'), 1)
  const verify = await run(ctx, 'verify', ctx.d, { dns: { records: 'cname' } })
  assert.is(verify.code, 0, verify.text)
  ctx.d.requests.reset()
  assert.match((await run(ctx, 'sync', ctx.d, { dns: { records: 'cname' } })).text, /recap dns: ok=2 changed=0/)
  assert.equal(ctx.d.requests.writes(), [])
})

Owned('no ingress.ip and no Traefik Service: a clear failure, and no Pi-hole is touched', async (ctx) => {
  ctx.d.requests.reset()
  const { code, text } = await run(ctx, 'sync', ctx.d, { extra: { ingress: { traefikService: { namespace: 'kube-system', name: 'no-such-traefik' } } } })
  assert.is(code, 1)
  assert.match(text, /ingress\.ip is not set and Service kube-system\/no-such-traefik does not exist; set ingress\.ip/)
  assert.match(text, /skipped +dns records on http:\/\/127\.0\.4\.32: needs "dns ingress address"/)
  assert.is(ctx.d.requests.entries.length, 0)
})

Owned('.local gives one warning suggesting home.arpa; home.arpa gives none', async (ctx) => {
  const local = await run(ctx, 'plan', ctx.d)
  assert.is(local.text.split('home.arpa (RFC 8375)').length - 1, 1)
  const arpa = await run(ctx, 'plan', ctx.d, { extra: { domain: 'home.arpa' } })
  assert.not.match(arpa.text, /mDNS/)
})

Owned('insecureSkipTlsVerify on an HTTPS Pi-hole works and prints a warning line', async (ctx) => {
  const tls = await startPihole({ stateDir: stateDir(), ip: '127.0.4.33', dnsPort: 1053, https: true })
  try {
    const config = writeTestConfig({ kubeconfig: ctx.kubeconfig, namespace: ctx.namespace, piholes: [{ url: tls.url, insecureSkipTlsVerify: true, dnsPort: 1053 }] })
    const captured = captureIo(['--config', config])
    assert.is(await runDnsTask('sync', captured.io), 0, captured.text())
    assert.match(captured.text(), /warning +dns records on https:\/\/127\.0\.4\.33: TLS verification is off for https:\/\/127\.0\.4\.33 \(dns\.piholes\[0\]\.insecureSkipTlsVerify\)/)
  } finally {
    await tls.stop()
  }
})

Owned('an entry naming other hosts too is never adopted nor removed; sync says it leaves it alone, then changes nothing', async (ctx) => {
  const shared = await startPihole({ stateDir: stateDir(), ip: '127.0.4.35', dnsPort: 1053 })
  try {
    const both = '127.0.2.1 registry.homelab.local nas.homelab.local'
    await shared.seed({ hosts: [both] })
    const first = await run(ctx, 'sync', shared)
    assert.is(first.code, 0, first.text)
    assert.match(first.text, /registry\.homelab\.local is answered by "127\.0\.2\.1 registry\.homelab\.local nas\.homelab\.local", an entry this tool did not write: it is left as it is and never changed \(it names other hosts too/)
    assert.not.match(first.text, /adopt A registry/)
    shared.requests.reset()
    assert.match((await run(ctx, 'sync', shared)).text, /recap dns: ok=\d+ changed=0/)
    assert.equal(shared.requests.writes(), [])
    // Even with nothing wanted any more, prune leaves it: it was never the tool's.
    await run(ctx, 'prune', shared, { extra: { localstack: { enabled: false }, registry: { ui: { enabled: false } } } })
    assert.ok(shared.records().hosts.includes(both))
  } finally {
    await shared.stop()
  }
})

Owned('CNAMEs whose restartdns was refused are served by the next sync once it is allowed, then nothing moves', async (ctx) => {
  const pihole = await startPihole({ stateDir: stateDir(), ip: '127.0.4.36', dnsPort: 1053 })
  const cnames = { dns: { records: 'cname' } }
  try {
    await pihole.setFault({ kind: 'status', status: 403, match: { method: 'POST', pathPrefix: '/api/action/restartdns' } })
    const refused = await run(ctx, 'sync', pihole, cnames)
    assert.is(refused.code, 1, refused.text)
    assert.match(refused.text, /allow_destructive/)
    assert.is(pihole.records().cnameRecords.length, 3)
    await pihole.setFault(undefined)
    pihole.requests.reset()
    const plan = await run(ctx, 'plan', pihole, cnames)
    assert.match(plan.text, /restart DNS: CNAME changes of an earlier run are stored but not served yet/)
    const repaired = await run(ctx, 'sync', pihole, cnames)
    assert.is(repaired.code, 0, repaired.text)
    assert.is(pihole.requests.count('POST', '/api/action/restartdns'), 1)
    await assertConverged(ctx, pihole, cnames)
  } finally {
    await pihole.stop()
  }
})

Owned('FTL 6.2 re-execs after every CNAME write, ignoring restart=false: sync waits for it each time and converges in one run', async (ctx) => {
  const pihole = await startPihole({ stateDir: stateDir(), ip: '127.0.4.37', dnsPort: 1053, ftl: '6.2', restartMs: 1500 })
  const cnames = { dns: { records: 'cname' } }
  try {
    const sync = await run(ctx, 'sync', pihole, cnames)
    assert.is(sync.code, 0, sync.text)
    assert.is(pihole.records().cnameRecords.length, 3)
    await assertConverged(ctx, pihole, cnames)
  } finally {
    await pihole.stop()
  }
})

Owned.run()
