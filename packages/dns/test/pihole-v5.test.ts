import { mkdtempSync } from 'node:fs'
import { tmpdir } from 'node:os'
import { join } from 'node:path'
import { createKubeClient, type KubeClient } from '@homelab/core'
import { labOptionsFromEnv, startPihole, useLab, v5Token, type PiholeDouble, reportHookErrors } from '@homelab/lab'
import { suite } from 'uvu'
import * as assert from 'uvu/assert'
import { runDnsTask, type DnsVerb } from '../src/index.js'
import { captureIo, writeTestConfig } from './dns-test-lab.js'

type Ctx = { kube: KubeClient; kubeconfig: string; namespace: string; v5: PiholeDouble; outputs: string[] }
const V5 = suite<Ctx>('Pi-hole v5 adapter against the api.php double', {} as Ctx)

const PASSWORD = 'v5 admin password 31'
const NAS = '10.0.0.9 nas.homelab.local'

V5.before(reportHookErrors(async (ctx) => {
  const lab = await useLab(labOptionsFromEnv(process.env))
  ctx.kubeconfig = lab.kubeconfigPath
  ctx.kube = createKubeClient({ kubeconfigPath: lab.kubeconfigPath, fieldManager: 'dns-test' })
  ctx.namespace = `dns-v5-${Date.now()}`
  ctx.v5 = await startPihole({ stateDir: mkdtempSync(join(tmpdir(), 'dns-v5-pihole-')), ip: '127.0.4.51', dnsPort: 1053, password: PASSWORD, version: 5 })
  await ctx.v5.seed({ hosts: [NAS] })
  ctx.outputs = []
}))

V5.after(async (ctx) => {
  await ctx.v5?.stop()
  await ctx.kube?.delete({ apiVersion: 'v1', kind: 'Namespace', name: ctx.namespace })
})

async function run(ctx: Ctx, verb: DnsVerb, password = PASSWORD) {
  const config = writeTestConfig({ kubeconfig: ctx.kubeconfig, namespace: ctx.namespace, piholes: [{ url: ctx.v5.url, version: 'auto', password, dnsPort: 1053 }] })
  const captured = captureIo(['--config', config])
  const code = await runDnsTask(verb, captured.io)
  ctx.outputs.push(captured.text())
  return { code, text: captured.text() }
}

V5('version auto detects v5; sync adds the three names through api.php', async (ctx) => {
  const { code, text } = await run(ctx, 'sync')
  assert.is(code, 0, text)
  assert.equal(ctx.v5.records().hosts, [NAS, '127.0.2.1 registry.homelab.local', '127.0.2.1 registry-ui.homelab.local', '127.0.2.1 localstack.homelab.local'])
  assert.is(ctx.v5.requests.count('GET', '/api/auth'), 1)
})

V5('second sync sends no add or delete and reports changed=0', async (ctx) => {
  ctx.v5.requests.reset()
  const { code, text } = await run(ctx, 'sync')
  assert.is(code, 0, text)
  assert.match(text, /recap dns: ok=2 changed=0/)
  assert.equal(ctx.v5.requests.writes(), [])
})

V5('verify resolves through the v5 double\'s dnsmasq', async (ctx) => {
  const { code, text } = await run(ctx, 'verify')
  assert.is(code, 0, text)
})

V5('a wrong password is named, and neither the password nor the api token shows', async (ctx) => {
  const wrong = 'wrong v5 password 77'
  const { code, text } = await run(ctx, 'sync', wrong)
  assert.is(code, 1)
  assert.match(text, /Pi-hole http:\/\/127\.0\.4\.51: GET \/admin\/api\.php\?customdns&action=get → not authorized .*check dns\.piholes\[0\]\.password/)
  for (const output of ctx.outputs) {
    for (const secret of [PASSWORD, wrong, v5Token(PASSWORD), v5Token(wrong)]) assert.not.ok(output.includes(secret))
  }
})

V5('an api.php failure shows the URL with every query value masked, never the token', async (ctx) => {
  await ctx.v5.setFault({ kind: 'status', status: 500 })
  try {
    const { code, text } = await run(ctx, 'sync')
    assert.is(code, 1)
    assert.match(text, /GET \/api\/auth → 500/)
    await ctx.v5.setFault({ kind: 'status', status: 500, match: { pathPrefix: '/admin' } })
    const v5 = await run(ctx, 'prune')
    assert.is(v5.code, 1)
    assert.not.ok(v5.text.includes(v5Token(PASSWORD)))
  } finally {
    await ctx.v5.setFault(undefined)
  }
})

V5('prune leaves the foreign record alone', async (ctx) => {
  assert.is((await run(ctx, 'prune')).code, 0)
  assert.ok(ctx.v5.records().hosts.includes(NAS))
})

V5.run()
