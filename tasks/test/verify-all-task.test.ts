import { test } from 'uvu'
import * as assert from 'uvu/assert'
import type { TaskIo } from '@homelab/core'
import { runVerifyAllTask } from '../runbooks/verify-all-task.js'

test('verify under --plan (the last stage of `pnpm turbo bootstrap --plan`) checks and writes nothing, and says why', async () => {
  let output = ''
  const out = { write: (s: string) => void (output += s) }
  // A config that cannot be read: a verify that tried to reach anything would fail on it.
  const io: TaskIo = { argv: ['--plan', '--config', '/nonexistent/homelab.yaml'], env: {}, cwd: '/', stdout: out, stderr: out, signal: new AbortController().signal }
  assert.is(await runVerifyAllTask(io), 0, output)
  assert.match(output, /skipped +verify: --plan applied nothing, so nothing new is verified/)
  assert.match(output, /recap verify \(plan\): ok=0 changed=0 failed=0 skipped=1/)
})

test.run()
