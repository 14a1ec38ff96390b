import { test } from 'uvu'
import * as assert from 'uvu/assert'
import { createReporter, parseConfig, runSteps, type ToolContext } from '@homelab/core'
import { dns } from '../src/index.js'

test('dns.enabled: false touches no Pi-hole and says that the records it made earlier stay until teardown', async () => {
  const config = parseConfig(JSON.stringify({ dns: { enabled: false, piholes: [{ url: 'http://127.0.4.250', password: 'unused-password' }] } }), { sourceName: 'h.yaml', baseDir: '/tmp', env: {} })
  // Any use of the cluster or a Pi-hole would throw here.
  const ctx = { config, kube: () => { throw new Error('the cluster was asked') } } as unknown as ToolContext
  const steps = await dns.bootstrap(ctx)
  let output = ''
  const result = await runSteps(steps, { title: 'dns', plan: false, reporter: createReporter({ json: false, out: { write: (s: string) => void (output += s) } }) })
  assert.equal([result.ok, result.changed, result.failed, result.skipped], [0, 0, 0, 1], output)
  assert.match(output, /skipped +dns: dns\.enabled is false: the Pi-holes are left as they are, records this tool made included \(pnpm teardown takes those out\)/)
})

test.run()
