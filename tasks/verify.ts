// `pnpm verify-all`, and the last stage of `pnpm turbo bootstrap`: every component's read-only end-to-end checks.
import { COMMON_FLAGS, openToolContext, processIo, runTask } from '@homelab/core'
import { COMPONENTS } from './components.js'
import { verifyAll } from './runbooks/verify-all.js'

const io = processIo()
process.exitCode = await runTask({ name: 'verify', usage: 'verify-all [--json] [--config FILE] [--kubeconfig FILE]', options: COMMON_FLAGS }, async ({ flags, reporter }) => {
  const ctx = openToolContext({ flags, reporter, env: io.env, cwd: io.cwd, signal: io.signal })
  try {
    return await verifyAll(COMPONENTS, ctx)
  } finally {
    await ctx.close()
  }
}, io)
