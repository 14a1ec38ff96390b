import { mkdtempSync } from 'node:fs'
import { tmpdir } from 'node:os'
import { join } from 'node:path'
import { suite } from 'uvu'
import * as assert from 'uvu/assert'
import { createReporter, parseConfig, runSteps, ToolClients, type ToolContext } from '@homelab/core'
import { reportHookErrors, startPihole, type PiholeDouble } from '@homelab/lab'
import { preflightSteps } from '../runbooks/preflight-steps.js'

type Ctx = { readOnly: PiholeDouble; sudo: PiholeDouble; admin: PiholeDouble }
const Pihole = suite<Ctx>('preflight: each Pi-hole reachable, and its password one that may change records', {} as Ctx)

const PASSWORD = 'preflight admin password 4'
const APP_PASSWORD = 'preflight app password 4'
const stateDir = () => mkdtempSync(join(tmpdir(), 'preflight-pihole-'))

Pihole.before(reportHookErrors(async (ctx) => {
  ctx.readOnly = await startPihole({ stateDir: stateDir(), ip: '127.0.4.47', dnsPort: 1053, password: PASSWORD, appPassword: APP_PASSWORD })
  ctx.sudo = await startPihole({ stateDir: stateDir(), ip: '127.0.4.48', dnsPort: 1053, password: PASSWORD, appPassword: APP_PASSWORD, appSudo: true })
  ctx.admin = await startPihole({ stateDir: stateDir(), ip: '127.0.4.49', dnsPort: 1053, password: PASSWORD, appPassword: APP_PASSWORD })
}))

Pihole.after(async (ctx) => {
  for (const p of [ctx.readOnly, ctx.sudo, ctx.admin]) await p?.stop()
})

/** The Pi-hole lines of a cluster preflight over these Pi-holes (no API server needed for them). */
async function piholeLines(piholes: { url: string; password: string }[]) {
  const config = parseConfig(JSON.stringify({ dns: { piholes: piholes.map((p) => ({ ...p, dnsPort: 1053 })) }, nodes: [] }), { sourceName: 'h.yaml', baseDir: '/tmp', env: {} })
  const clients = new ToolClients()
  const tool = { config, acceptNewHostKeys: false, signal: new AbortController().signal, shared: clients.shared } as unknown as ToolContext
  const steps = preflightSteps(tool, 'cluster').filter((s) => s.name.startsWith('Pi-hole '))
  let output = ''
  try {
    const result = await runSteps(steps, { title: 'preflight', plan: true, reporter: createReporter({ json: false, out: { write: (s: string) => void (output += s) } }) })
    return { result, output }
  } finally {
    await clients.close()
  }
}

Pihole('an app password without app_sudo fails its Pi-hole, naming the key and the fix; the admin password and an app password with app_sudo pass', async (ctx) => {
  const run = await piholeLines([
    { url: ctx.readOnly.url, password: APP_PASSWORD },
    { url: ctx.admin.url, password: PASSWORD },
    { url: ctx.sudo.url, password: APP_PASSWORD },
  ])
  assert.equal([run.result.failed, run.result.ok], [1, 2], run.output)
  assert.match(run.output, /failed\s+Pi-hole \S*\s?\(?http:\/\/127\.0\.4\.47\)? reachable, password accepted/)
  assert.match(run.output, /dns\.piholes\[0\]\.password is an app password, and the Pi-hole's webserver\.api\.app_sudo is false: it may read the records but not change them/)
  assert.match(run.output, /set webserver\.api\.app_sudo = true on the Pi-hole, or put the admin password in dns\.piholes\[0\]\.password/)
  assert.not.ok(run.output.includes(APP_PASSWORD) || run.output.includes(PASSWORD), 'no password in the output')
  for (const p of [ctx.readOnly, ctx.sudo, ctx.admin]) {
    assert.equal(p.requests.writes(), [], 'preflight changes nothing')
    assert.is(p.sessions.open, 0, 'every login logged out')
    assert.equal(p.validationFailures, [])
  }
})

Pihole.run()
