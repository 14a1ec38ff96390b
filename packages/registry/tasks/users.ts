// `pnpm --filter registry run users -- add|remove|rotate NAME`: see the package README for the users model.
import { text } from 'node:stream/consumers'
import { processIo } from '@homelab/core'
import { usersTask } from '../src/index.js'

process.exitCode = await usersTask(processIo(), () => text(process.stdin))
