// Writes the `localstack` AWS profile (~/.aws/config and ~/.aws/credentials, or where AWS_CONFIG_FILE and
// AWS_SHARED_CREDENTIALS_FILE point; a symlinked file stays a symlink), merged with what is there.
import { COMMON_FLAGS, openToolContext, processIo, runSteps, runTask } from '@homelab/core'
import { localstackProfileSteps } from '../src/index.js'

const io = processIo()
process.exitCode = await runTask({ name: 'localstack profile', usage: 'profile [--plan] [--json] [--config FILE] [--kubeconfig FILE]', options: COMMON_FLAGS }, async ({ flags, reporter }) => {
  const ctx = openToolContext({ flags, reporter, env: io.env, cwd: io.cwd, signal: io.signal })
  try {
    return await runSteps(localstackProfileSteps(ctx), { title: 'localstack profile', plan: ctx.plan, reporter, signal: ctx.signal })
  } finally {
    await ctx.close()
  }
}, io)
