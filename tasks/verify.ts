// `pnpm verify-all`, and the last stage of `pnpm turbo bootstrap`: every component's read-only end-to-end checks.
import { processIo } from '@homelab/core'
import { runVerifyAllTask } from './runbooks/verify-all-task.js'

process.exitCode = await runVerifyAllTask(processIo())
