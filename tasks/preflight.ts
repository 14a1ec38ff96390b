// `pnpm preflight` (and the first stage of `pnpm turbo bootstrap`): can bootstrap succeed here? One line per check.
import { processIo } from '@homelab/core'
import { runPreflightTask } from './runbooks/preflight-task.js'

process.exitCode = await runPreflightTask(processIo())
