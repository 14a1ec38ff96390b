import { randomBytes } from 'node:crypto'
import { MANAGED_BY, Secret, type HomelabConfig, type KubeClient, type KubeObject, type ObjectRef } from '@homelab/core'
import { ROTATION_RECORD, storedSecretValue } from '@homelab/registry'
import { RunbookError } from './errors/runbook-error.js'

/**
 * A rotation in progress, kept in the cluster before anything changes, so an interrupted rotation is finished by the
 * next run with the same new password (never a third one) and still knows the old one to prove it rejected.
 */
export type RotationState = { user: string; next: Secret; previous: Secret | undefined; resumed: boolean }

export const rotationRef = (config: HomelabConfig): ObjectRef & { namespace: string } => ({ apiVersion: 'v1', kind: 'Secret', namespace: config.kubernetes.namespace, name: ROTATION_RECORD })

const decode = (value: string | undefined) => (value === undefined ? undefined : Buffer.from(value, 'base64').toString('utf8'))

/** The rotation to carry out: the one left by an interrupted run, else a new one for `user` (the nodes' user by default). */
export async function rotationState(kube: KubeClient, config: HomelabConfig, requestedUser: string | undefined): Promise<RotationState> {
  const stored = (await kube.get(rotationRef(config)))?.['data'] as Record<string, string> | undefined
  if (stored?.['user'] && stored['next']) {
    const user = decode(stored['user'])!
    if (requestedUser && requestedUser !== user) {
      throw new RunbookError(`a rotation of ${user}'s password is still unfinished; it must end before ${requestedUser}'s starts`, { key: `Secret ${config.kubernetes.namespace}/${ROTATION_RECORD}`, hint: `run rotate-credentials without --user (or with --user ${user}) to finish it` })
    }
    // The record outlives config edits: a user removed since would make "registry accepts the new password" wait
    // until it times out, on every run. Deleting the record is the operator's call, so say exactly how.
    if (!config.registry.users.some((u) => u.name === user)) {
      throw new RunbookError(`the unfinished rotation of ${user}'s password cannot finish: ${user} is no longer in registry.users`, {
        key: `Secret ${config.kubernetes.namespace}/${ROTATION_RECORD}`,
        hint: `if ${user} was removed on purpose, delete the rotation record (kubectl -n ${config.kubernetes.namespace} delete secret ${ROTATION_RECORD}) and run rotate-credentials again; else add ${user} back to registry.users`,
      })
    }
    const previous = decode(stored['previous'])
    return { user, next: new Secret(decode(stored['next'])!), previous: previous === undefined ? undefined : new Secret(previous), resumed: true }
  }
  const user = requestedUser ?? config.registry.users[0]!.name
  const index = config.registry.users.findIndex((u) => u.name === user)
  if (index === -1) throw new RunbookError(`user ${user} is not in registry.users`, { key: 'registry.users', hint: `the users are: ${config.registry.users.map((u) => u.name).join(', ')}` })
  if (config.registry.users[index]!.password) {
    throw new RunbookError(`the password of ${user} comes from config (registry.users[${index}].password or passwordFile)`, { key: `registry.users[${index}].password`, hint: 'change it there and run pnpm turbo bootstrap: a rotation here would be undone by the next bootstrap' })
  }
  const previous = await storedSecretValue(kube, { name: config.registry.auth.credentialsSecretName, namespace: config.registry.namespace }, user)
  return { user, next: new Secret(randomBytes(24).toString('base64url')), previous: previous === undefined ? undefined : new Secret(previous), resumed: false }
}

/** The state as a Secret: applied before the first change, deleted after the last check. */
export function rotationSecret(config: HomelabConfig, state: RotationState): KubeObject {
  const data: Record<string, string> = { user: state.user, next: state.next.reveal(), ...(state.previous ? { previous: state.previous.reveal() } : {}) }
  return {
    apiVersion: 'v1',
    kind: 'Secret',
    type: 'Opaque',
    metadata: {
      name: ROTATION_RECORD,
      namespace: config.kubernetes.namespace,
      labels: { ...MANAGED_BY },
      annotations: { 'homelab-devtools/purpose': 'an unfinished registry password rotation; `pnpm rotate-credentials` finishes it' },
    },
    data: Object.fromEntries(Object.entries(data).map(([k, v]) => [k, Buffer.from(v, 'utf8').toString('base64')])),
  }
}
