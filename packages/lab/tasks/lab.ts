#!/usr/bin/env tsx
// Usage: tsx packages/lab/tasks/lab.ts up|down|status|env [--cache-dir DIR] [--state-dir DIR] [--traefik-ip IP]
// Env: HOMELAB_LAB_CACHE, HOMELAB_LAB_DIR, HOMELAB_LAB_TRAEFIK_IP (flags win). Exit: 0 ok, 1 failed, 2 usage.
import { parseArgs } from 'node:util'
import { labDown, labEnv, labOptionsFromEnv, labStatus, labUp, type LabOptions } from '../src/index.js'

const USAGE = 'usage: lab up|down|status|env [--cache-dir DIR] [--state-dir DIR] [--traefik-ip IP]'
const progress = (message: string) => console.log(`lab: ${message}`)

function parse(argv: string[]): { command: string; options: LabOptions } | undefined {
  const { values, positionals } = parseArgs({
    args: argv, allowPositionals: true,
    options: { 'cache-dir': { type: 'string' }, 'state-dir': { type: 'string' }, 'traefik-ip': { type: 'string' } },
  })
  const command = positionals[0]
  if (positionals.length !== 1 || !command || !['up', 'down', 'status', 'env'].includes(command)) return undefined
  const fromEnv = labOptionsFromEnv(process.env)
  const options: LabOptions = {
    cacheDir: values['cache-dir'] ?? fromEnv.cacheDir,
    stateDir: values['state-dir'] ?? fromEnv.stateDir,
    traefikIp: values['traefik-ip'] ?? fromEnv.traefikIp,
    onProgress: progress,
  }
  return { command, options }
}

async function up(options: LabOptions): Promise<number> {
  const result = await labUp(options)
  if (result.installedPackages.length > 0) progress(`installed ${result.installedPackages.join(' ')}`)
  progress(result.started.length > 0 ? `started ${result.started.join(', ')}` : 'already up: nothing started')
  progress(`API server ${result.server} ready; kubeconfig ${result.kubeconfigPath}`)
  return 0
}

async function down(options: LabOptions): Promise<number> {
  const { stateDir, stopped } = await labDown(options)
  progress(`${stopped.length > 0 ? `stopped ${stopped.join(', ')}` : 'nothing was running'}; removed ${stateDir}`)
  return 0
}

async function status(options: LabOptions): Promise<number> {
  const result = await labStatus(options)
  for (const p of result.processes) console.log(`${p.name.padEnd(15)} ${p.alive ? `running  pid ${p.pid}` : 'stopped'}  log ${p.logFile}`)
  console.log(`${'readyz'.padEnd(15)} ${result.ready ? 'ok' : 'not ready'}  ${result.server}`)
  if (result.ready) console.log(`${'crds'.padEnd(15)} ${result.crds.filter((c) => c.established).length}/${result.crds.length} established`)
  const { controller, pods } = result.controller
  console.log(`${controller.name.padEnd(15)} ${controller.alive ? `running  pid ${controller.pid}` : 'stopped'}  log ${controller.logFile}`)
  for (const pod of pods) {
    const where = pod.podIp ? ` on ${pod.podIp}` : ''
    console.log(`  ${pod.kind} ${pod.namespace}/${pod.name}${where}: ${pod.alive ? `running  pid ${pod.pid}` : 'stopped'}  log ${pod.logFile}`)
  }
  return result.ready ? 0 : 1
}

async function main(): Promise<number> {
  let parsed: ReturnType<typeof parse>
  try {
    parsed = parse(process.argv.slice(2))
  } catch (error) {
    console.error(`${describeError(error)}\n${USAGE}`)
    return 2
  }
  if (!parsed) {
    console.error(USAGE)
    return 2
  }
  const { command, options } = parsed
  if (command === 'env') {
    for (const line of labEnv(options)) console.log(line)
    return 0
  }
  try {
    return await (command === 'up' ? up(options) : command === 'down' ? down(options) : status(options))
  } catch (error) {
    console.error(`lab ${command} failed: ${describeError(error)}`)
    return 1
  }
}

process.exitCode = await main()

/** The message and its causes' messages, once each. */
function describeError(error: unknown): string {
  const parts: string[] = []
  for (let e: unknown = error, depth = 0; e !== undefined && depth < 4; e = e instanceof Error ? e.cause : undefined, depth++) {
    const text = e instanceof Error ? e.message : String(e)
    if (!parts.some((p) => p.includes(text))) parts.push(text)
  }
  return parts.join(': caused by: ')
}
