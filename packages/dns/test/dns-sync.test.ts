import { mkdtempSync } from 'node:fs'
import { tmpdir } from 'node:os'
import { join } from 'node:path'
import { createKubeClient, type KubeClient } from '@homelab/core'
import { labOptionsFromEnv, startPihole, useLab, type PiholeDouble, reportHookErrors, sampleProcessArgv } from '@homelab/lab'
import { suite } from 'uvu'
import * as assert from 'uvu/assert'
import { ownershipKey, runDnsTask, type DnsVerb } from '../src/index.js'
import { captureIo, writeTestConfig, type PiholeEntryConfig } from './dns-test-lab.js'

type Ctx = { kube: KubeClient; kubeconfig: string; namespace: string; a: PiholeDouble; b: PiholeDouble; outputs: string[]; cmdlines: Set<string> }
const Sync = suite<Ctx>('dns sync on two Pi-holes', {} as Ctx)

const PASSWORD = 'pihole-a secret 42'
const NAS = '10.0.0.9 nas.homelab.local'
const TRAEFIK_IP = '127.0.2.1'
const NAMES = ['registry.homelab.local', 'registry-ui.homelab.local', 'localstack.homelab.local']
const wantedHosts = (names = NAMES) => names.map((n) => `${TRAEFIK_IP} ${n}`)
const stateDir = () => mkdtempSync(join(tmpdir(), 'dns-sync-pihole-'))

Sync.before(reportHookErrors(async (ctx) => {
  const lab = await useLab(labOptionsFromEnv(process.env))
  ctx.kubeconfig = lab.kubeconfigPath
  ctx.kube = createKubeClient({ kubeconfigPath: lab.kubeconfigPath, fieldManager: 'dns-test' })
  ctx.namespace = `dns-sync-${Date.now()}`
  ctx.a = await startPihole({ stateDir: stateDir(), ip: '127.0.4.21', dnsPort: 1053, password: PASSWORD })
  ctx.b = await startPihole({ stateDir: stateDir(), ip: '127.0.4.22', dnsPort: 1053 })
  await ctx.a.seed({ hosts: [NAS] })
  await ctx.b.seed({ hosts: [NAS] })
  ctx.outputs = []
  ctx.cmdlines = new Set()
}))

Sync.after(async (ctx) => {
  await ctx.a?.stop()
  await ctx.b?.stop()
  await ctx.kube?.delete({ apiVersion: 'v1', kind: 'Namespace', name: ctx.namespace })
})

const piholes = (ctx: Ctx): PiholeEntryConfig[] => [
  { url: ctx.a.url, name: 'pihole-a', password: PASSWORD, dnsPort: 1053 },
  { url: ctx.b.url, dnsPort: 1053 },
]

/** Runs a dns task the way `pnpm --filter dns run <verb>` does, sampling every process's argv meanwhile. */
async function run(ctx: Ctx, verb: DnsVerb, options: { localstack?: boolean; argv?: string[] } = {}) {
  const extra = options.localstack === false ? { localstack: { enabled: false } } : {}
  const config = writeTestConfig({ kubeconfig: ctx.kubeconfig, namespace: ctx.namespace, piholes: piholes(ctx), extra })
  const captured = captureIo(['--config', config, ...(options.argv ?? [])])
  const sampler = sampleProcessArgv(5)
  try {
    const code = await runDnsTask(verb, captured.io)
    ctx.outputs.push(captured.text())
    return { code, text: captured.text() }
  } finally {
    for (const argv of sampler.stop().seen) ctx.cmdlines.add(argv)
  }
}

const ownedOn = async (ctx: Ctx, p: PiholeDouble) => {
  const cm = await ctx.kube.get({ apiVersion: 'v1', kind: 'ConfigMap', namespace: ctx.namespace, name: 'dns-records' })
  return ((cm?.['data'] as Record<string, string> | undefined)?.[ownershipKey(p.url)] ?? '').split('\n').filter(Boolean)
}

Sync('first sync adds the three names on both Pi-holes (records read from the Traefik Service) and owns them', async (ctx) => {
  const { code, text } = await run(ctx, 'sync')
  assert.is(code, 0, text)
  assert.match(text, /recap dns: ok=1 changed=2 failed=0/)
  for (const p of [ctx.a, ctx.b]) {
    assert.equal(p.records().hosts, [NAS, ...wantedHosts()])
    assert.equal(await ownedOn(ctx, p), wantedHosts().map((h) => `A ${h}`).sort())
    assert.equal(p.validationFailures, [])
  }
})

Sync('second sync reports changed=0, sends no write, and closes every session it opened', async (ctx) => {
  ctx.a.requests.reset()
  ctx.b.requests.reset()
  const { code, text } = await run(ctx, 'sync')
  assert.is(code, 0, text)
  assert.match(text, /recap dns: ok=3 changed=0 failed=0 skipped=0/)
  assert.equal(ctx.a.requests.writes(), [], ctx.a.requests.summary().join('\n'))
  assert.equal(ctx.b.requests.writes(), [])
  assert.ok(ctx.a.sessions.opened > 0)
  assert.is(ctx.a.sessions.open, 0)
  assert.is(ctx.a.sessions.closed, ctx.a.sessions.opened)
  // Without a password there is no session: no logout is sent either.
  assert.is(ctx.b.requests.count('DELETE', '/api/auth'), 0)
})

Sync('plan shows a drifted record and writes nothing', async (ctx) => {
  await fetch(`${ctx.b.url}/api/config/dns/hosts/${encodeURIComponent(`${TRAEFIK_IP} registry-ui.homelab.local`)}`, { method: 'DELETE' })
  ctx.b.requests.reset()
  const { code, text } = await run(ctx, 'plan')
  assert.is(code, 0, text)
  assert.match(text, /add A registry-ui\.homelab\.local → 127\.0\.2\.1/)
  assert.equal(ctx.b.requests.writes(), [])
  assert.is((await run(ctx, 'sync')).code, 0)
  assert.equal(ctx.b.records().hosts.sort(), [NAS, ...wantedHosts()].sort())
})

Sync('verify resolves every name through dnsmasq on both Pi-holes', async (ctx) => {
  const { code, text } = await run(ctx, 'verify')
  assert.is(code, 0, text)
  assert.match(text, /ok +dns answers on pihole-a \(http:\/\/127\.0\.4\.21\)/)
  assert.match(text, /ok +dns answers on http:\/\/127\.0\.4\.22/)
})

Sync('prune removes only owned records no longer wanted; the foreign record stays', async (ctx) => {
  const { code, text } = await run(ctx, 'prune', { localstack: false })
  assert.is(code, 0, text)
  assert.match(text, /remove A localstack\.homelab\.local → 127\.0\.2\.1 \(unwanted\)/)
  for (const p of [ctx.a, ctx.b]) assert.equal(p.records().hosts.sort(), [NAS, ...wantedHosts(NAMES.slice(0, 2))].sort())
  assert.not.ok((await ownedOn(ctx, ctx.a)).some((k) => k.includes('localstack')))
})

Sync('one Pi-hole down: the other converges, the failure names its URL, exit 1; the next run finishes', async (ctx) => {
  await ctx.b.setFault({ kind: 'down' })
  const down = await run(ctx, 'sync')
  assert.is(down.code, 1)
  assert.match(down.text, /failed +dns records on http:\/\/127\.0\.4\.22/)
  assert.match(down.text, /Pi-hole http:\/\/127\.0\.4\.22: GET \/api\/auth → connection refused/)
  assert.match(down.text, /check that the Pi-hole is up and that dns\.piholes\[1\]\.url \(http:\/\/127\.0\.4\.22: scheme, address, port\) is where its web interface answers/, down.text)
  assert.match(down.text, /changed +dns records on pihole-a/)
  assert.ok(ctx.a.records().hosts.includes(`${TRAEFIK_IP} localstack.homelab.local`))
  await ctx.b.setFault(undefined)
  const again = await run(ctx, 'sync')
  assert.is(again.code, 0, again.text)
  assert.match(again.text, /changed +dns records on http:\/\/127\.0\.4\.22/)
  assert.equal(ctx.b.records().hosts.sort(), [NAS, ...wantedHosts()].sort())
  assert.match((await run(ctx, 'sync')).text, /recap dns: ok=3 changed=0/)
})

Sync('a Pi-hole answering 500 fails alone, with the request in the message', async (ctx) => {
  await ctx.a.setFault({ kind: 'status', status: 500, match: { method: 'GET', pathPrefix: '/api/config' } })
  try {
    const { code, text } = await run(ctx, 'sync')
    assert.is(code, 1)
    assert.match(text, /Pi-hole http:\/\/127\.0\.4\.21: GET \/api\/config\/dns\/hosts → 500 Internal Server Error/)
    assert.match(text, /ok +dns records on http:\/\/127\.0\.4\.22/)
    assert.is(ctx.a.sessions.open, 0)
  } finally {
    await ctx.a.setFault(undefined)
  }
})

Sync('the Pi-hole password appears in no output and in no process argv', (ctx) => {
  assert.ok(ctx.outputs.length >= 8)
  for (const text of ctx.outputs) assert.not.ok(text.includes(PASSWORD))
  assert.ok(ctx.cmdlines.size > 0)
  for (const cmdline of ctx.cmdlines) assert.not.ok(cmdline.includes(PASSWORD), `the password in the argv ${cmdline.replaceAll(PASSWORD, '****')}`)
})

Sync('the foreign record survived every command', (ctx) => {
  for (const p of [ctx.a, ctx.b]) assert.ok(p.records().hosts.includes(NAS))
})

Sync.run()
