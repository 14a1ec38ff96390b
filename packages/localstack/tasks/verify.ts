import { processIo, runComponentTask } from '@homelab/core'
import { localstack } from '../src/index.js'

process.exitCode = await runComponentTask([localstack], 'verify', processIo())
