import { processIo, runComponentTask } from '@homelab/core'
import { registry } from '../src/index.js'

process.exitCode = await runComponentTask([registry], 'bootstrap', processIo())
