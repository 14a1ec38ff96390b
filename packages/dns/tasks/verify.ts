import { processIo } from '@homelab/core'
import { runDnsTask } from '../src/index.js'

process.exitCode = await runDnsTask('verify', processIo())
