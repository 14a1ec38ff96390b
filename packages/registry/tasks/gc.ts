// `pnpm --filter registry run gc [--yes] [--plan] [--delete-untagged]`: the garbage-collection runbook
// (src/gc/gc-runbook.ts). The one place that talks to the terminal: the confirmation question.
import { createInterface } from 'node:readline/promises'
import { processIo } from '@homelab/core'
import { gcTask } from '../src/index.js'

async function askOnTerminal(question: string, signal: AbortSignal): Promise<boolean> {
  const prompt = createInterface({ input: process.stdin, output: process.stdout })
  // Ctrl-C at the prompt is the same interrupt as anywhere else: the runbook puts the registry back to read-write.
  prompt.on('SIGINT', () => process.emit('SIGINT'))
  try {
    return /^y(es)?$/i.test((await prompt.question(`${question} [y/N] `, { signal })).trim())
  } catch (error) {
    if (signal.aborted) return false
    throw error
  } finally {
    prompt.close()
  }
}

const io = processIo()
process.exitCode = await gcTask(io, process.stdin.isTTY && process.stdout.isTTY ? askOnTerminal : undefined)
