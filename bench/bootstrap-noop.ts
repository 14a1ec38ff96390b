// `pnpm bench [rounds]`: wall time of a no-op `pnpm turbo bootstrap` on the lab (three nodes, two Pi-holes, everything
// converged), against the floor measured in the same run: a server-side dry-run apply of the same objects, one plain
// `ssh` per node and one Pi-hole list per instance. Prints both and the ratio (target ≤ 2×, start-up included).
// Rounds (default 7) interleave the two, so both see the same machine load; the figures are medians, because one
// sample on a shared two-core machine swings by a third either way.
import { spawn } from 'node:child_process'
import { createReporter, openToolContext, retryPolicyFromConfig, type KubeObject, type ToolContext } from '@homelab/core'
import { piholeConnector } from '@homelab/dns'
import { COMPONENTS } from '../tasks/components.js'
import { pipelineTotal, REPO_ROOT } from '../tasks/lab/run-tool-process.js'
import { startE2eHomelab } from '../tasks/test/e2e-homelab.js'

const ROUNDS = Number(process.argv[2] ?? 7)
const out = (line: string) => process.stdout.write(`${line}\n`)
const median = (values: number[]) => [...values].sort((a, b) => a - b)[Math.floor(values.length / 2)]!
const timed = async (work: () => Promise<unknown>) => {
  const started = performance.now()
  await work()
  return Math.round(performance.now() - started)
}

/** Every object the components' bootstrap steps would apply (apply steps return their object from desired()). */
async function bootstrapObjects(ctx: ToolContext): Promise<KubeObject[]> {
  const stepCtx = { plan: true, progress: () => undefined, warn: () => undefined, signal: ctx.signal }
  const objects: KubeObject[] = []
  for (const component of COMPONENTS) {
    for (const step of await component.bootstrap(ctx)) {
      if (!step.name.startsWith('apply ') && !/^localstack (namespace|state volume|deployment|service|certificate|ingress route|s3 virtual-host route)$/.test(step.name)) continue
      const desired = (await step.desired(stepCtx)) as KubeObject | undefined
      if (desired?.apiVersion && desired.kind) objects.push(desired)
    }
  }
  return objects
}

function plainSsh(host: string, port: number, key: string, knownHosts: string): Promise<void> {
  return new Promise((resolve, reject) => {
    const child = spawn('ssh', ['-p', String(port), '-i', key, '-o', `UserKnownHostsFile=${knownHosts}`, '-o', 'BatchMode=yes', `root@${host}`, 'true'], { stdio: 'ignore' })
    child.once('close', (code) => (code === 0 ? resolve() : reject(new Error(`ssh ${host} exited ${code}`))))
  })
}

/** `pnpm turbo bootstrap <args>` exactly as an operator types it, from the repo root; its wall time and exit code. */
function pnpmTurboBootstrap(args: readonly string[]): Promise<{ ms: number; code: number; output: string }> {
  const started = performance.now()
  return new Promise((resolve, reject) => {
    const child = spawn('pnpm', ['turbo', 'bootstrap', ...args], { cwd: REPO_ROOT, env: { ...process.env, TURBO_NO_UPDATE_NOTIFIER: '1', TURBO_TELEMETRY_DISABLED: '1' }, stdio: ['ignore', 'pipe', 'pipe'] })
    let output = ''
    child.stdout.on('data', (d: Buffer) => (output += d.toString()))
    child.stderr.on('data', (d: Buffer) => (output += d.toString()))
    child.once('error', reject)
    child.once('close', (code) => resolve({ ms: Math.round(performance.now() - started), code: code ?? 1, output }))
  })
}

async function floor(ctx: ToolContext, homelab: Awaited<ReturnType<typeof startE2eHomelab>>): Promise<{ total: number; parts: string }> {
  const objects = await bootstrapObjects(ctx)
  const kube = ctx.kube()
  const dryRun = await timed(() => Promise.all(objects.map((o) => kube.apply(o, { dryRun: true, force: false }))))
  const ssh = await timed(() => Promise.all(homelab.nodes.nodes.map((n) => plainSsh(n.host, n.port, homelab.nodes.clientKeyPath, homelab.nodes.knownHostsPath))))
  const retries = retryPolicyFromConfig(ctx.config.retries)
  const lists = await timed(() => Promise.all(ctx.config.dns.piholes.map((pihole, index) => piholeConnector({ pihole, index, timeoutMs: 10_000, retries }).withSession((s) => s.list()))))
  return { total: dryRun + ssh + lists, parts: `dry-run apply of ${objects.length} objects ${dryRun} ms + ${homelab.nodes.nodes.length} × ssh ${ssh} ms + ${ctx.config.dns.piholes.length} × Pi-hole list ${lists} ms` }
}

const homelab = await startE2eHomelab('bench', { nodeIp: '127.0.1.81', piholeIps: ['127.0.4.81', '127.0.4.82'] })
try {
  const config = ['--config', homelab.configPath]
  out('bench: converging the bench homelab first (not timed; also builds the cached task bundles)')
  const warm = await pnpmTurboBootstrap(config)
  if (warm.code !== 0) throw new Error(`the warm-up bootstrap failed:\n${warm.output}`)
  const ctx = openToolContext({ flags: { config: homelab.configPath }, reporter: createReporter({ json: false, out: { write: () => undefined } }), env: process.env, cwd: process.cwd(), signal: new AbortController().signal })
  const runs: Awaited<ReturnType<typeof pnpmTurboBootstrap>>[] = []
  const floors: Awaited<ReturnType<typeof floor>>[] = []
  try {
    for (let round = 0; round < ROUNDS; round++) {
      runs.push(await pnpmTurboBootstrap(config))
      floors.push(await floor(ctx, homelab))
    }
  } finally {
    await ctx.close()
  }
  const separate = await pnpmTurboBootstrap([...config, '--separate-processes'])
  const changed = (run: { output: string }) => pipelineTotal(run.output)?.changed ?? '?'
  const failedRun = runs.find((r) => r.code !== 0 || changed(r) !== 0)
  if (failedRun) throw new Error(`a timed run was not a no-op (exit ${failedRun.code}, changed=${changed(failedRun)}):\n${failedRun.output}`)
  const noop = median(runs.map((r) => r.ms))
  const floorMs = median(floors.map((f) => f.total))
  const typical = floors.find((f) => f.total === floorMs)!
  out(`no-op pnpm turbo bootstrap: median ${noop} ms of ${ROUNDS} (${runs.map((r) => r.ms).join(', ')}; every one exit 0, changed=0; preflight, 4 packages and verify in one process)`)
  out(`the same with --separate-processes: ${separate.ms} ms (exit ${separate.code}, changed=${changed(separate)}; turbo runs each task as a pnpm + node process)`)
  out(`floor: median ${floorMs} ms of ${ROUNDS} (${floors.map((f) => f.total).join(', ')}); the median one: ${typical.parts}`)
  out(`ratio: ${(noop / floorMs).toFixed(2)}× (target ≤ 2×); ${(separate.ms / floorMs).toFixed(1)}× with --separate-processes`)
} finally {
  await homelab.stop()
}
