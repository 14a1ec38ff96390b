// The rendered config.yml and htpasswd, run by Debian's docker-registry (Distribution 2.8.2): proof that what bootstrap
// stores is a config the registry starts with, not only one that parses.
import { spawn, type ChildProcess } from 'node:child_process'
import { mkdtempSync, writeFileSync } from 'node:fs'
import { createServer } from 'node:net'
import { tmpdir } from 'node:os'
import { join } from 'node:path'
import { Secret } from '@homelab/core'
import { reportHookErrors } from '@homelab/lab'
import { suite } from 'uvu'
import * as assert from 'uvu/assert'
import { distributionConfig, renderDistributionConfig, renderHtpasswd } from '../src/index.js'
import { testConfig } from './fixtures/test-config.js'

type Ctx = { child: ChildProcess; log: () => string; base: string; debug: string; password: Secret }
const Distribution = suite<Ctx>('rendered config on Debian docker-registry', {} as Ctx)

const freePort = () =>
  new Promise<number>((resolve) => {
    const server = createServer().listen(0, '127.0.0.1', () => {
      const { port } = server.address() as { port: number }
      server.close(() => resolve(port))
    })
  })

const basic = (user: string, password: Secret) => ({ authorization: `Basic ${Buffer.from(`${user}:${password.reveal()}`).toString('base64')}` })

Distribution.before(reportHookErrors(async (ctx) => {
  const dir = mkdtempSync(join(tmpdir(), 'registry-config-'))
  ctx.password = new Secret(`pw-${Date.now()}-distribution`)
  writeFileSync(join(dir, 'config.yml'), renderDistributionConfig(distributionConfig(testConfig().registry)).text)
  writeFileSync(join(dir, 'htpasswd'), await renderHtpasswd([{ name: 'admin', password: ctx.password }], undefined), { mode: 0o600 })
  const [http, debug] = [await freePort(), await freePort()]
  ctx.base = `http://127.0.0.1:${http}`
  ctx.debug = `http://127.0.0.1:${debug}`
  // Only what differs between a pod and this test is overridden: addresses, the data root and the htpasswd path.
  const env = {
    PATH: process.env.PATH,
    REGISTRY_HTTP_ADDR: `127.0.0.1:${http}`,
    REGISTRY_HTTP_DEBUG_ADDR: `127.0.0.1:${debug}`,
    REGISTRY_STORAGE_FILESYSTEM_ROOTDIRECTORY: join(dir, 'data'),
    REGISTRY_AUTH_HTPASSWD_PATH: join(dir, 'htpasswd'),
    REGISTRY_HTTP_SECRET: 'http-secret-for-the-test',
  }
  ctx.child = spawn('docker-registry', ['serve', join(dir, 'config.yml')], { env, stdio: ['ignore', 'pipe', 'pipe'] })
  let log = ''
  ctx.child.stdout!.on('data', (d: Buffer) => (log += d.toString()))
  ctx.child.stderr!.on('data', (d: Buffer) => (log += d.toString()))
  ctx.log = () => log
  for (let i = 0; i < 50; i++) {
    if (await fetch(`${ctx.base}/`).then((r) => r.ok, () => false)) return
    await new Promise((r) => setTimeout(r, 100))
  }
  throw new Error(`docker-registry did not start: ${log}`)
}))

Distribution.after((ctx) => {
  ctx.child?.kill()
})

Distribution('GET / answers 200 without credentials (the probe path)', async ({ base }) => {
  assert.is((await fetch(`${base}/`)).status, 200)
})

Distribution('/v2/ is 401 without credentials, 200 for the htpasswd user, 401 for a wrong password', async ({ base, password }) => {
  const anonymous = await fetch(`${base}/v2/`)
  assert.is(anonymous.status, 401)
  assert.match(anonymous.headers.get('www-authenticate') ?? '', /Basic realm="Registry Realm"/)
  assert.is(anonymous.headers.get('x-content-type-options'), 'nosniff')
  assert.is((await fetch(`${base}/v2/`, { headers: basic('admin', password) })).status, 200)
  assert.is((await fetch(`${base}/v2/`, { headers: basic('admin', new Secret('wrong')) })).status, 401)
})

Distribution('metrics answer on the debug port with registry_ series', async ({ debug }) => {
  const text = await (await fetch(`${debug}/metrics`)).text()
  assert.match(text, /^registry_/m)
})

Distribution('the registry took http.secret from the env and found no unknown settings', async ({ log }) => {
  assert.not.match(log(), /No HTTP secret provided/)
  assert.not.match(log(), /panic/)
})

Distribution.run()
