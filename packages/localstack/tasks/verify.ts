import { processIo, runComponentTask } from '@homelab/core'
import { localstack } from '../src/index.js'

// The SDK warns on Node 20 that releases after early January 2027 need Node 22; the lockfile pins versions that run
// on 20, so the warning would only bury the step lines.
process.env.AWS_SDK_JS_NODE_VERSION_SUPPORT_WARNING_DISABLED ??= 'true'
process.exitCode = await runComponentTask([localstack], 'verify', processIo())
