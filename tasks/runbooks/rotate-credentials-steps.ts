import { applyStep, checkStep, StepSkipped, waitFor, type HomelabConfig, type Step, type ToolContext } from '@homelab/core'
import { createNodeTrust, nodeTrust, TRUST_MATERIAL_STEP } from '@homelab/node-trust'
import { resolveRegistryCredentials } from '@homelab/registry'
import { loginAccepted, loginRefused, registryEndpoint } from './registry-endpoint.js'
import { pushTestImage, TEST_IMAGE_STEP } from './registry-test-image.js'
import { rotationRef, rotationSecret, type RotationState } from './rotation-state.js'

const STEP = {
  record: 'record the rotation (new password kept until the end)',
  newAccepted: 'registry accepts the new password',
  oldRejected: 'registry rejects the old password',
  finish: 'finish the rotation',
  pulls: 'a pull with the new password on every node',
} as const

const planSkipped = (name: string): Step<null, never> => checkStep(name, () => Promise.reject(new StepSkipped('--plan applies nothing, so nothing is pushed or pulled')))

/**
 * New password → credentials Secret → htpasswd Secret → every node's registries.yaml (node-trust's own steps: one
 * node at a time, K3s restarted only where the file changed) → a pull with the new password on every node → the old
 * password refused → the rotation record removed. Each step is idempotent, so a re-run after an interruption finishes.
 */
export async function rotateCredentialsSteps(ctx: ToolContext, state: RotationState): Promise<Step<any, any, any>[]> {
  const kube = ctx.kube()
  const force = ctx.forceConflicts
  const login = { username: state.user, password: state.next }
  const credentials = await resolveRegistryCredentials(kube, ctx.config.registry, { passwordOverrides: { [state.user]: state.next } })
  const record = applyStep(kube, rotationSecret(ctx.config, state), { force, name: STEP.record })
  const credentialsStep = applyStep(kube, credentials.credentialsSecret, { force, needs: [record.name] })
  const htpasswdStep = applyStep(kube, credentials.htpasswdSecret, { force, needs: [credentialsStep.name] })
  // The nodes get registry.users[0]'s login; rotating another user leaves them alone.
  const nodesUseIt = ctx.config.registry.users[0]?.name === state.user
  // Handed the new password, not left to read the stored one: under --plan that is still the old, and the plan would
  // show no node change.
  const nodeSteps = nodesUseIt ? (await createNodeTrust({ login }).bootstrap(ctx)).map((s) => (s.name === TRUST_MATERIAL_STEP ? { ...s, needs: [STEP.newAccepted] } : s)) : []
  // Added to, not replacing, their own needs (a pull needs node-trust's push). Under --plan they would push and pull
  // for real: one skipped line says what the run would check instead.
  const pullSteps = !nodesUseIt ? [] : ctx.plan ? [planSkipped(STEP.pulls)] : ((await nodeTrust.verify?.(ctx)) ?? []).map((s) => ({ ...s, needs: [...(s.needs ?? []), TEST_IMAGE_STEP, ...nodeSteps.map((n) => n.name)] }))
  return [
    record,
    credentialsStep,
    htpasswdStep,
    checkStep(STEP.newAccepted, async (stepCtx) => {
      if (ctx.plan) return
      const endpoint = await registryEndpoint(ctx)
      // The kubelet refreshes a mounted Secret within its sync period; Distribution re-reads htpasswd when it changes.
      await waitFor(async () => ({ done: await loginAccepted(endpoint, login), seen: 'the registry still refuses it' }), {
        what: `registry ${endpoint.host} accepting the new password of ${state.user}`, timeoutMs: ctx.config.timeouts.rollout.milliseconds, intervalMs: 500, signal: stepCtx.signal,
        hint: newPasswordWaitHint(ctx.config),
      })
    }, [htpasswdStep.name]),
    ...nodeSteps,
    checkStep(TEST_IMAGE_STEP, async () => {
      if (!ctx.plan && nodesUseIt) await pushTestImage(await registryEndpoint(ctx), login)
    }, [STEP.newAccepted]),
    ...pullSteps,
    checkStep(STEP.oldRejected, async () => {
      if (ctx.plan || !state.previous) return
      const endpoint = await registryEndpoint(ctx)
      if (await loginAccepted(endpoint, { username: state.user, password: state.previous })) throw loginRefused(endpoint, { username: state.user, password: state.previous }, 'rejected')
    }, [STEP.newAccepted]),
    // Under --plan the pulls are one skipped line, which would skip this one too: the plan shows the delete all the same.
    finishStep(ctx, [STEP.oldRejected, ...(ctx.plan ? [] : pullSteps.map((s) => s.name)), ...nodeSteps.map((s) => s.name)]),
  ]
}

/** What to check when the registry never takes the new password: it reads another Secret than the one written. */
export const newPasswordWaitHint = (config: HomelabConfig) => {
  const ns = config.registry.namespace
  return `check that Deployment ${ns}/registry mounts Secret ${ns}/${config.registry.auth.secretName} (registry.auth.secretName): kubectl -n ${ns} get deploy registry -o jsonpath='{.spec.template.spec.volumes}'; then run rotate-credentials again, it resumes this rotation with the same new password`
}

/** Deletes the rotation record: only once every node pulls with the new password and the old one is refused. */
function finishStep(ctx: ToolContext, needs: readonly string[]): Step<boolean, 'delete'> {
  const ref = rotationRef(ctx.config)
  return {
    name: STEP.finish,
    needs,
    // Under --plan the record does not exist yet, but this run would have made it: show the delete all the same.
    check: async () => ctx.plan || (await ctx.kube().get(ref)) !== undefined,
    desired: () => false,
    diff: (present) => (present ? ['delete'] : []),
    describe: () => ({ summary: `delete Secret ${ref.namespace}/${ref.name} (the rotation record)` }),
    apply: async () => void (await ctx.kube().delete(ref)),
  }
}
