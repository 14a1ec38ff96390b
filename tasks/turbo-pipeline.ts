// `pnpm turbo …` (the root `turbo` script). `pnpm turbo bootstrap|plan|verify [flags]` runs the pipeline of
// turbo.json with the tool's flags forwarded to every task and a total at the end; any other turbo command is
// handed to turbo as it is. The plain binary stays at `pnpm exec turbo`.
import { processIo } from '@homelab/core'
import { pnpmTurbo } from './pipeline/run-turbo-pipeline.js'

// The AWS SDK warns on every client that Node 20 support ends; the tool is pinned to Node 20 on purpose.
process.env.AWS_SDK_JS_NODE_VERSION_SUPPORT_WARNING_DISABLED ??= 'true'
process.exitCode = await pnpmTurbo(processIo())
