// `pnpm --filter node-trust run plan`: the same steps `pnpm turbo plan` runs for node trust.
import { processIo, runComponentTask } from '@homelab/core'
import { nodeTrust } from '../src/index.js'

process.exitCode = await runComponentTask([nodeTrust], 'plan', processIo())
