import { describeRef, isOurs, MANAGED_BY, waitFor, type Duration, type KubeClient, type KubeObject, type ObjectRef, type Step } from '@homelab/core'
import { deploymentReadiness, type Readiness } from './readiness-steps.js'
import { appLabels, SECRET_ROLE_LABEL, type SecretRole } from './registry-names.js'

/**
 * A role whose Secret takes its name from config, with the name config gives it now. `data` (the credentials role)
 * is what is applied under that name, one key per configured user: an old Secret holding another value for one of
 * them may hold the only copy of a current password, so it stays.
 */
export type ConfiguredAuthSecret = { role: SecretRole; name: string; key: string; data?: Readonly<Record<string, string>> }

/** An old credentials Secret that stays: `users` hold values the configured Secret does not. */
export type HeldOldSecret = { ref: ObjectRef & { namespace: string }; users: string[]; configured: ConfiguredAuthSecret }

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
 * So does an old one whose values differ from what is applied (see heldOldSecrets).
 */
export function planOldAuthSecrets(secrets: readonly KubeObject[], configured: readonly ConfiguredAuthSecret[], fieldManager: string): OldAuthSecret[] {
  return oldOfOurs(secrets, configured, fieldManager)
    .filter(({ secret, now }) => heldUsers(secret, now).length === 0)
    .map(({ secret, now }) => ({ ref: secretRef(secret), because: `${now.key} is now ${now.name}` }))
}

/**
 * Pure. The old credentials Secrets of ours that stay because, for a configured user, they hold a value the configured
 * Secret does not (a rename back to an older name, a rotation written under the name config gave then).
 */
export function heldOldSecrets(secrets: readonly KubeObject[], configured: readonly ConfiguredAuthSecret[], fieldManager: string): HeldOldSecret[] {
  return oldOfOurs(secrets, configured, fieldManager)
    .map(({ secret, now }) => ({ ref: secretRef(secret), users: heldUsers(secret, now), configured: now }))
    .filter((h) => h.users.length > 0)
}

/** Pure: the warning for a Secret that stays; names and users only, never a value. */
export function describeHeldOldSecret(held: HeldOldSecret): string {
  const { ref, users, configured } = held
  return `Secret ${ref.namespace}/${ref.name} stays: it holds another password than Secret ${ref.namespace}/${configured.name} (${configured.key}) for ${users.join(', ')}, maybe the only copy of the current one. ` +
    `If those in ${ref.name} are the current ones, set ${configured.key}: ${ref.name} and run again; otherwise delete it: kubectl -n ${ref.namespace} delete secret ${ref.name}`
}

function oldOfOurs(secrets: readonly KubeObject[], configured: readonly ConfiguredAuthSecret[], fieldManager: string) {
  const inUse = new Set(configured.map((c) => c.name))
  return secrets
    .filter((s) => isOurs(s, fieldManager) && !inUse.has(s.metadata.name) && s.metadata.namespace)
    .flatMap((secret) => {
      const now = configured.find((c) => c.role === secret.metadata.labels?.[SECRET_ROLE_LABEL])
      return now ? [{ secret, now }] : []
    })
    .sort((a, b) => a.secret.metadata.name.localeCompare(b.secret.metadata.name))
}

/** Configured users (the keys of what is applied) for which the old Secret holds a value that is not the applied one. */
function heldUsers(secret: KubeObject, now: ConfiguredAuthSecret): string[] {
  if (!now.data) return []
  const old = (secret['data'] ?? {}) as Record<string, string>
  return Object.keys(now.data).filter((user) => old[user] !== undefined && old[user] !== now.data![user]).sort()
}

const secretRef = (secret: KubeObject): OldAuthSecret['ref'] => ({ apiVersion: 'v1', kind: 'Secret', namespace: secret.metadata.namespace!, name: secret.metadata.name })

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
      for (const held of heldOldSecrets(secrets, options.configured, kube.fieldManager)) ctx.warn(describeHeldOldSecret(held))
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
