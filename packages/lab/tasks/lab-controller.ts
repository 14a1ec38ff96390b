#!/usr/bin/env tsx
// Usage: tsx packages/lab/tasks/lab-controller.ts --state-dir=DIR --traefik-ip=IP
// Started detached by `lab up` (pid and log in the state folder); stops on SIGTERM. Exit: 0 stopped, 1 failed, 2 usage.
import { parseArgs } from 'node:util'
import { DEFAULT_TRAEFIK_IP } from '../src/api-server.js'
import { runLabController } from '../src/controller/lab-controller.js'

async function main(): Promise<number> {
  const { values } = parseArgs({ options: { 'state-dir': { type: 'string' }, 'traefik-ip': { type: 'string' } } })
  const stateDir = values['state-dir']
  if (!stateDir) {
    console.error('usage: lab-controller --state-dir=DIR [--traefik-ip=IP]')
    return 2
  }
  const abort = new AbortController()
  for (const signal of ['SIGTERM', 'SIGINT'] as const) process.once(signal, () => abort.abort())
  try {
    await runLabController({ stateDir, traefikIp: values['traefik-ip'] || DEFAULT_TRAEFIK_IP, signal: abort.signal })
    return 0
  } catch (error) {
    // stderr is the controller's log file.
    console.error(`lab controller failed: ${error instanceof Error ? error.message : String(error)}`)
    return 1
  }
}

process.exitCode = await main()
