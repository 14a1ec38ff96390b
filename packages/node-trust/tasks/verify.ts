// `pnpm --filter node-trust run verify`: the same steps `pnpm turbo verify` runs for node trust.
import { processIo, runComponentTask } from '@homelab/core'
import { nodeTrust } from '../src/index.js'

process.exitCode = await runComponentTask([nodeTrust], 'verify', processIo())
