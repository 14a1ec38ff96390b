// `pnpm demo`: a whole homelab on loopback, bootstrapped for real, then bootstrapped again to show that a converged
// homelab reports changed=0.
import { COMMON_FLAGS, openToolContext, processIo, runComponents, runTask } from '@homelab/core'
import { DEFAULT_TRAEFIK_IP, labOptionsFromEnv, labUp, writeLabConfig } from '@homelab/lab'
import { COMPONENTS } from './components.js'

const io = processIo()
process.exitCode = await runTask({ name: 'demo', usage: 'demo [--json]', options: COMMON_FLAGS }, async ({ flags, reporter }) => {
  const labOptions = { ...labOptionsFromEnv(io.env), onProgress: (m: string) => reporter.progress('lab', m) }
  const lab = await labUp(labOptions)
  const config = writeLabConfig(lab, { traefikIp: labOptions.traefikIp ?? DEFAULT_TRAEFIK_IP })
  const ctx = openToolContext({ flags: { ...flags, config }, reporter, env: io.env, cwd: io.cwd, signal: io.signal })
  try {
    const first = await runComponents(COMPONENTS, 'bootstrap', ctx)
    const second = await runComponents(COMPONENTS, 'bootstrap', ctx)
    const changedAgain = second.reduce((n, r) => n + r.changed, 0)
    if (changedAgain > 0) reporter.error(`the second bootstrap changed ${changedAgain} thing(s): it must change nothing`)
    else io.stdout.write(`\ndemo: second bootstrap changed=0 — the homelab is converged.\n  config: ${config}\n  kubeconfig: ${lab.kubeconfigPath}\n  stop the lab with: pnpm lab down\n`)
    return changedAgain > 0 ? 1 : [...first, ...second]
  } finally {
    await ctx.close()
  }
}, io)
