import { processIo } from '@homelab/core'
import { runDnsTask } from '../src/index.js'

process.exitCode = await runDnsTask('prune', processIo())
