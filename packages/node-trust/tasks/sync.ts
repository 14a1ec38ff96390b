// `pnpm --filter node-trust run sync`: the same steps `pnpm turbo bootstrap` runs for node trust.
import { processIo, runComponentTask } from '@homelab/core'
import { nodeTrust } from '../src/index.js'

process.exitCode = await runComponentTask([nodeTrust], 'bootstrap', processIo())
