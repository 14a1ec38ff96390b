// `pnpm status`: what is deployed and whether it drifted, per component; changes nothing.
// Exit 0 converged, 3 drift found (each drifted thing is a `changed` line naming it), 1 a check failed.
import { COMMON_FLAGS, EXIT, heldRunLocks, openToolContext, processIo, runSteps, runTask, type RunResult } from '@homelab/core'
import { COMPONENTS } from './components.js'
import { statusSteps } from './runbooks/status-steps.js'

const io = processIo()
process.exitCode = await runTask({ name: 'status', usage: 'status [--json] [--config FILE] [--kubeconfig FILE]', options: COMMON_FLAGS }, async ({ flags, reporter }) => {
  const ctx = openToolContext({ flags: { ...flags, plan: true }, reporter, env: io.env, cwd: io.cwd, signal: io.signal })
  try {
    const runs: RunResult[] = []
    for (const component of COMPONENTS) {
      const steps = await statusSteps(component, ctx)
      runs.push(await runSteps(steps, { title: `${component.name} status`, plan: true, reporter, signal: ctx.signal, concurrency: 4 }))
    }
    if (runs.some((r) => r.failed > 0)) return EXIT.failed
    const drifted = runs.filter((r) => r.changed > 0).map((r) => r.title.replace(/ status$/, ''))
    if (drifted.length > 0) {
      // A run in progress (a gc holding the registry read-only, a bootstrap halfway) shows as drift until it ends.
      const held = await heldRunLocks(ctx.kube(), ctx.config.kubernetes.namespace).catch(() => [])
      for (const lock of held) reporter.warn(undefined, `${ctx.config.kubernetes.namespace}/${lock.name} is held by ${lock.holder} (until ${lock.expiresAt}, unless renewed): what that run is changing shows as drift until it ends; run status again then`)
      reporter.warn(undefined, `drift in ${drifted.join(', ')}: \`pnpm turbo bootstrap\` repairs it (add --force-conflicts where a field was changed by hand)`)
    }
    return drifted.length > 0 ? EXIT.drift : EXIT.ok
  } finally {
    await ctx.close()
  }
}, io)
