// `pnpm bench`: wall time of a no-op `pnpm turbo bootstrap` on the lab (three nodes, two Pi-holes, everything
// converged), against the floor measured in the same run: a server-side dry-run apply of the same objects, one plain
// `ssh` per node and one Pi-hole list per instance. Prints both and the ratio (target ≤ 2×, start-up included).
import { spawn } from 'node:child_process'
import { createReporter, openToolContext, retryPolicyFromConfig, type KubeObject, type ToolContext } from '@homelab/core'
import { piholeConnector } from '@homelab/dns'
import { COMPONENTS } from '../tasks/components.js'
import { pipelineTotal, REPO_ROOT, runToolProcess } from '../tasks/lab/run-tool-process.js'
import { TURBO_BIN } from '../tasks/pipeline/run-turbo-pipeline.js'
import { startE2eHomelab } from '../tasks/test/e2e-homelab.js'

const out = (line: string) => process.stdout.write(`${line}\n`)
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

function plainSsh(host: string, key: string, knownHosts: string): Promise<void> {
  return new Promise((resolve, reject) => {
    const child = spawn('ssh', ['-i', key, '-o', `UserKnownHostsFile=${knownHosts}`, '-o', 'BatchMode=yes', `root@${host}`, 'true'], { stdio: 'ignore' })
    child.once('close', (code) => (code === 0 ? resolve() : reject(new Error(`ssh ${host} exited ${code}`))))
  })
}

function turboBootstrapOnly(configPath: string): Promise<void> {
  return new Promise((resolve, reject) => {
    const argv = ['run', 'bootstrap', '--continue=dependencies-successful', '--ui=stream', '--', '--config', configPath]
    const child = spawn(TURBO_BIN, argv, { cwd: REPO_ROOT, env: { ...process.env, HOMELAB_CONFIG: configPath, TURBO_NO_UPDATE_NOTIFIER: '1', TURBO_TELEMETRY_DISABLED: '1' }, stdio: 'ignore' })
    child.once('close', (code) => (code === 0 ? resolve() : reject(new Error(`turbo run bootstrap exited ${code}`))))
  })
}

async function floor(ctx: ToolContext, homelab: Awaited<ReturnType<typeof startE2eHomelab>>): Promise<{ total: number; parts: string }> {
  const objects = await bootstrapObjects(ctx)
  const kube = ctx.kube()
  const dryRun = await timed(() => Promise.all(objects.map((o) => kube.apply(o, { dryRun: true, force: false }))))
  const ssh = await timed(() => Promise.all(homelab.nodes.nodes.map((n) => plainSsh(n.host, homelab.nodes.clientKeyPath, homelab.nodes.knownHostsPath))))
  const retries = retryPolicyFromConfig(ctx.config.retries)
  const lists = await timed(() => Promise.all(ctx.config.dns.piholes.map((pihole, index) => piholeConnector({ pihole, index, timeoutMs: 10_000, retries }).withSession((s) => s.list()))))
  return { total: dryRun + ssh + lists, parts: `dry-run apply of ${objects.length} objects ${dryRun} ms + ${homelab.nodes.nodes.length} × ssh ${ssh} ms + ${ctx.config.dns.piholes.length} × Pi-hole list ${lists} ms` }
}

const homelab = await startE2eHomelab('bench', { nodeIp: '127.0.1.81', piholeIps: ['127.0.4.81', '127.0.4.82'] })
try {
  const config = ['--config', homelab.configPath]
  out('bench: converging the bench homelab first (not timed)')
  const warm = await runToolProcess('tasks/turbo-pipeline.ts', ['bootstrap', ...config])
  if (warm.code !== 0) throw new Error(`the warm-up bootstrap failed:\n${warm.output}`)
  const noop = await runToolProcess('tasks/turbo-pipeline.ts', ['bootstrap', ...config])
  // The same pipeline without its verify stage (verify pushes and pulls a test image, runs LocalStack smoke tests):
  // the work the floor stands for.
  const bootstrapOnly = await timed(() => turboBootstrapOnly(homelab.configPath))
  const total = pipelineTotal(noop.output)
  const ctx = openToolContext({ flags: { config: homelab.configPath }, reporter: createReporter({ json: false, out: { write: () => undefined } }), env: process.env, cwd: process.cwd(), signal: new AbortController().signal })
  const measured = await floor(ctx, homelab).finally(() => ctx.close())
  out(`no-op pnpm turbo bootstrap: ${noop.ms} ms (exit ${noop.code}, changed=${total?.changed ?? '?'}; preflight, 4 packages and verify-all, each its own process)`)
  out(`no-op bootstrap without the verify stage (turbo run bootstrap, preflight included): ${bootstrapOnly} ms`)
  out(`floor: ${measured.total} ms (${measured.parts})`)
  out(`ratio: ${(bootstrapOnly / measured.total).toFixed(1)}× without verify, ${(noop.ms / measured.total).toFixed(1)}× with verify (target ≤ 2×)`)
} finally {
  await homelab.stop()
}
