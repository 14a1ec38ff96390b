// `pnpm --filter registry run verify`: end-to-end checks of the running registry (see src/registry-verify.ts).
import { processIo, runComponentTask } from '@homelab/core'
import { registry } from '../src/index.js'

process.exitCode = await runComponentTask([registry], 'verify', processIo())
