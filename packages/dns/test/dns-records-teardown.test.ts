import { mkdtempSync } from 'node:fs'
import { tmpdir } from 'node:os'
import { join } from 'node:path'
import { createKubeClient, createReporter, parseConfig, runSteps, type KubeClient } from '@homelab/core'
import { labOptionsFromEnv, reportHookErrors, startPihole, useLab, type PiholeDouble } from '@homelab/lab'
import { suite } from 'uvu'
import * as assert from 'uvu/assert'
import { configMapOwnership, dnsRecordsStep, piholeConnector } from '../src/index.js'

type Ctx = { kube: KubeClient; namespace: string; owns: PiholeDouble; gone: PiholeDouble }
const Teardown = suite<Ctx>('dns records wanted by nobody (teardown): only Pi-holes holding records of ours are asked', {} as Ctx)

const RECORD = '127.0.2.1 registry.teardown.home.arpa'
const stateDir = () => mkdtempSync(join(tmpdir(), 'dns-teardown-pihole-'))

Teardown.before(reportHookErrors(async (ctx) => {
  const lab = await useLab(labOptionsFromEnv(process.env))
  ctx.kube = createKubeClient({ kubeconfigPath: lab.kubeconfigPath, fieldManager: 'dns-test' })
  ctx.namespace = `dns-teardown-${Date.now()}`
  await ctx.kube.apply({ apiVersion: 'v1', kind: 'Namespace', metadata: { name: ctx.namespace } }, { dryRun: false, force: true })
  ctx.owns = await startPihole({ stateDir: stateDir(), ip: '127.0.4.95', dnsPort: 1053 })
  ctx.gone = await startPihole({ stateDir: stateDir(), ip: '127.0.4.96', dnsPort: 1053 })
  await ctx.owns.seed({ hosts: [RECORD] })
}))

Teardown.after(async (ctx) => {
  await ctx.owns?.stop()
  await ctx.gone?.stop()
  await ctx.kube?.delete({ apiVersion: 'v1', kind: 'Namespace', name: ctx.namespace })
})

async function teardownRecords(ctx: Ctx) {
  const ownership = configMapOwnership(ctx.kube, { namespace: ctx.namespace, name: 'dns-records' })
  const retries = { attempts: 1, baseDelayMs: 10, maxDelayMs: 10 }
  const config = parseConfig(JSON.stringify({ dns: { piholes: [ctx.owns, ctx.gone].map((p) => ({ url: p.url, dnsPort: 1053 })) } }), { sourceName: 'test.yaml', baseDir: '/tmp', env: {} })
  const steps = config.dns.piholes.map((pihole, index) =>
    dnsRecordsStep({ pihole: piholeConnector({ pihole, index, timeoutMs: 2000, retries }), ownership, wanted: () => [], adopt: false, prune: true }))
  let out = ''
  const result = await runSteps(steps, { title: 'teardown', plan: false, reporter: createReporter({ json: false, out: { write: (s: string) => (out += s) } }) })
  return { result, out }
}

Teardown('a Pi-hole with no record of ours is not contacted, even when it is down; the one with ours is cleaned', async (ctx) => {
  const ownership = configMapOwnership(ctx.kube, { namespace: ctx.namespace, name: 'dns-records' })
  await ownership.update(ctx.owns.url, { add: [`A ${RECORD}`], remove: [] })
  ctx.gone.requests.reset()
  const { result, out } = await teardownRecords(ctx)
  assert.is(result.failed, 0, out)
  assert.is(result.changed, 1, out)
  assert.equal(ctx.owns.records().hosts, [])
  assert.equal(ctx.gone.requests.summary(), [], 'no request, not even a login, reached the Pi-hole that holds nothing of ours')
  await ctx.gone.setFault({ kind: 'down' })
  const again = await teardownRecords(ctx).finally(() => ctx.gone.setFault(undefined))
  assert.is(again.result.failed, 0, again.out)
  assert.is(again.result.changed, 0, again.out)
})

Teardown('a Pi-hole that does hold a record of ours is asked, and its being down fails that step', async (ctx) => {
  const ownership = configMapOwnership(ctx.kube, { namespace: ctx.namespace, name: 'dns-records' })
  await ownership.update(ctx.gone.url, { add: [`A ${RECORD}`], remove: [] })
  await ctx.gone.setFault({ kind: 'down' })
  const { result, out } = await teardownRecords(ctx).finally(() => ctx.gone.setFault(undefined))
  assert.is(result.failed, 1, out)
  assert.match(out, new RegExp(`failed\\s+dns records on ${ctx.gone.url.replace(/\./g, '\\.')}`))
})

Teardown.run()
