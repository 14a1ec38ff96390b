import { describeRef, isOurs, MANAGED_BY, waitFor, type Duration, type KubeClient, type KubeObject, type ObjectRef, type Step } from '@homelab/core'
import { deploymentReadiness, type Readiness } from './readiness-steps.js'
import { appLabels, SECRET_ROLE_LABEL, type SecretRole } from './registry-names.js'

/** A role whose Secret takes its name from config, with the name config gives it now. */
export type ConfiguredAuthSecret = { role: SecretRole; name: string; key: string }

export type OldAuthSecret = { ref: ObjectRef & { namespace: string }; because: string }

export type OldAuthSecretsOptions = {
  namespace: string
  configured: readonly ConfiguredAuthSecret[]
  /** The registry Deployment: an old Secret goes only once it runs on the configured ones. */
  deployment: ObjectRef
  rolloutTimeout: Duration
  needs: readonly string[]
}

/**
 * Pure. Our Secrets (label + field manager) of a renamable role under a name config no longer gives them. A name
 * config uses for any role stays: under --plan a Secret about to take another role still carries its old label.
 */
export function planOldAuthSecrets(secrets: readonly KubeObject[], configured: readonly ConfiguredAuthSecret[], fieldManager: string): OldAuthSecret[] {
  const inUse = new Set(configured.map((c) => c.name))
  return secrets
    .filter((s) => isOurs(s, fieldManager) && !inUse.has(s.metadata.name))
    .flatMap((s) => {
      const now = configured.find((c) => c.role === s.metadata.labels?.[SECRET_ROLE_LABEL])
      if (!now || !s.metadata.namespace) return []
      return [{ ref: { apiVersion: 'v1', kind: 'Secret', namespace: s.metadata.namespace, name: s.metadata.name }, because: `${now.key} is now ${now.name}` }]
    })
    .sort((a, b) => a.ref.name.localeCompare(b.ref.name))
}

/** Pure: the Deployment runs on none of the old Secrets, and its rollout is complete. */
export function rolledOffSecrets(deployment: KubeObject | undefined, old: readonly string[]): Readiness {
  type Volume = { secret?: { secretName?: string } }
  const volumes = ((deployment?.['spec'] as { template?: { spec?: { volumes?: Volume[] } } } | undefined)?.template?.spec?.volumes ?? [])
  const still = volumes.map((v) => v.secret?.secretName).filter((n): n is string => n !== undefined && old.includes(n))
  if (still.length > 0) return { done: false, seen: `it still mounts Secret ${still.join(', ')}` }
  return deploymentReadiness(deployment)
}

/**
 * After registry.auth.secretName or credentialsSecretName is renamed, the Secret under the old name still holds
 * password hashes (or the passwords). It goes once the new one is applied and the registry has rolled onto it; only
 * ours (label + field manager) of the same role, found by label, so someone else's Secret is never touched.
 */
export function oldAuthSecretsStep(kube: KubeClient, options: OldAuthSecretsOptions): Step<OldAuthSecret[], OldAuthSecret, null> {
  const roles = options.configured.map((c) => c.role)
  const labels = Object.entries({ ...appLabels('registry'), ...MANAGED_BY }).map(([k, v]) => `${k}=${v}`)
  const labelSelector = [...labels, `${SECRET_ROLE_LABEL} in (${roles.join(',')})`].join(',')
  const deployment = describeRef(options.deployment)
  return {
    name: `remove registry auth Secrets no longer configured in ${options.namespace}`,
    needs: options.needs,
    check: async (ctx) => {
      const secrets = await kube.list('v1', 'Secret', { namespace: options.namespace, labelSelector })
      const old = planOldAuthSecrets(secrets, options.configured, kube.fieldManager)
      // The runner's wait for the rollout is skipped under --plan; this step must still show its plan, so it waits itself.
      if (old.length > 0 && !ctx.plan) {
        const names = old.map((o) => o.ref.name)
        await waitFor(async () => rolledOffSecrets(await kube.get(options.deployment), names), {
          what: `${deployment} to run on the configured Secrets`,
          timeoutMs: options.rolloutTimeout.milliseconds,
          signal: ctx.signal,
          progress: ctx.progress,
          hint: `the old Secrets (${names.join(', ')}) stay until it does; check the rollout (kubectl -n ${options.deployment.namespace} describe deployment ${options.deployment.name}), then run bootstrap again`,
        })
      }
      return old
    },
    desired: () => null,
    diff: (old) => old,
    describe: (o) => ({ summary: `delete ${describeRef(o.ref)} (${o.because})` }),
    apply: async (old) => {
      for (const o of old) await kube.delete(o.ref)
    },
  }
}
