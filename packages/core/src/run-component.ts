import { COMMON_FLAGS, runTask, type TaskIo } from './cli.js'
import type { Component } from './component.js'
import { acquireRunLock, RunLockedError, UNDER_PIPELINE_LOCK_ENV, type RunLock } from './kube/run-lock.js'
import { runSteps, type RunResult } from './runner.js'
import { checkStep, StepSkipped, type Step } from './step.js'
import { openToolContext, type ToolContext } from './tool-context.js'

export type ComponentVerb = 'bootstrap' | 'plan' | 'verify'

/** Runs one verb of several components in order, in one context; each gets its own recap. */
export async function runComponents(components: readonly Component[], verb: ComponentVerb, ctx: ToolContext): Promise<RunResult[]> {
  const results: RunResult[] = []
  const plan = verb === 'plan' || ctx.plan
  let lockedOut: string | undefined
  for (const component of components) {
    const options = { title: component.name, plan, reporter: ctx.reporter, signal: ctx.signal, concurrency: 4 }
    // Another run is converging this homelab: going on with the next components would interleave with it.
    if (lockedOut) {
      results.push(await runSteps([skippedStep(`${component.name} bootstrap`, `another run holds ${lockedOut}; not started`)], options))
      continue
    }
    // Only a run that changes things takes the lock: plans and verifies read, and may run beside a bootstrap. A
    // pipeline's tasks run under its lock, which it took after making sure no component is locked.
    let lock: RunLock | undefined
    try {
      if (verb === 'bootstrap' && !plan && ctx.env[UNDER_PIPELINE_LOCK_ENV] === undefined) lock = await acquireRunLock(ctx.kube(), { namespace: ctx.config.kubernetes.namespace, name: component.name, task: `${component.name} bootstrap` })
    } catch (error) {
      results.push(await runSteps([failedStep(`${component.name} run lock`, error)], options))
      if (error instanceof RunLockedError) lockedOut = error.lock
      continue
    }
    try {
      const steps = verb === 'verify' ? ((await component.verify?.(ctx)) ?? []) : await component.bootstrap(ctx)
      results.push(await runSteps(steps, options))
    } finally {
      await lock?.release()
    }
  }
  return results
}

const failedStep = (name: string, error: unknown): Step<null, never> => checkStep(name, () => Promise.reject(error))
const skippedStep = (name: string, reason: string): Step<null, never> => checkStep(name, () => Promise.reject(new StepSkipped(reason)))

/** The whole of a package's `tasks/<verb>.ts`: flags, config, clients, steps, exit code. */
export function runComponentTask(components: readonly Component[], verb: ComponentVerb, io: TaskIo): Promise<number> {
  const name = components.map((c) => c.name).join('+')
  return runTask({ name: `${name} ${verb}`, usage: `${verb} [--plan] [--json] [--config FILE] [--kubeconfig FILE] [--force-conflicts] [--accept-new-host-keys]`, options: COMMON_FLAGS }, async ({ flags, reporter }) => {
    const ctx = openToolContext({ flags, reporter, env: io.env, cwd: io.cwd, signal: io.signal, clients: io.clients })
    try {
      return await runComponents(components, verb, ctx)
    } finally {
      await ctx.close()
    }
  }, io)
}
