import { randomBytes } from 'node:crypto'
import { COMMON_FLAGS, describeRef, runSteps, Secret, UsageError, type HomelabConfig, type RunResult, type Step, type ToolContext, type ToolFlags, applyStep } from '@homelab/core'
import { configUsersStep } from './config-users-file.js'
import { RegistryUsersError } from './errors/registry-users-error.js'
import { resolveRegistryCredentials } from './registry-credentials.js'

export type UsersCommand = { verb: 'add'; name: string; password?: Secret } | { verb: 'remove'; name: string } | { verb: 'rotate'; name: string }

export const USERS_FLAGS = {
  ...COMMON_FLAGS,
  'password-stdin': { type: 'boolean', default: false },
  'show-password': { type: 'boolean', default: false },
  'password-file': { type: 'string' },
} as const

/** The parsed flags of the users task (core's parser types them loosely). */
export type UsersFlags = ToolFlags & { 'password-stdin'?: boolean; 'show-password'?: boolean; 'password-file'?: string }

export const USERS_USAGE =
  'users add NAME [--password-stdin] | users remove NAME | users rotate NAME; with [--show-password] [--password-file FILE] [--plan] [--config FILE] [--kubeconfig FILE]'

/** Pure: positionals (and a password read from stdin) to a command, or a UsageError naming what is wrong. */
export function parseUsersCommand(positionals: readonly string[], stdinPassword: Secret | undefined): UsersCommand {
  const [verb, name, ...extra] = positionals
  if (verb !== 'add' && verb !== 'remove' && verb !== 'rotate') throw new UsageError(`expected add, remove or rotate, got ${JSON.stringify(verb ?? '')}`)
  if (!name || extra.length > 0) throw new UsageError(`users ${verb} takes exactly one user name`)
  // htpasswd lines are `name:hash`: a ':' or a space would break the file.
  if (/[:\s]/.test(name)) throw new UsageError(`user name ${JSON.stringify(name)} must not contain ":" or spaces`)
  if (stdinPassword && verb !== 'add') throw new UsageError('--password-stdin only goes with users add (rotate generates the new password)')
  // An empty pipe (a failed `pass show … |`) would otherwise create a user whose empty password logs in.
  if (stdinPassword && stdinPassword.reveal().trim() === '') {
    throw new UsageError('--password-stdin read an empty password; pipe a non-empty password, or drop --password-stdin to have one generated')
  }
  if (verb === 'add') return stdinPassword ? { verb, name, password: stdinPassword } : { verb, name }
  return { verb, name }
}

export type UsersTarget = {
  /** The config file in use, and where it came from (core's resolveConfigFile). */
  configFile: { path: string; source: string }
  env: Readonly<Record<string, string | undefined>>
}

export type UsersOutcome = {
  run: RunResult
  name: string
  password: Secret | undefined
  /** The credentials Secret now holds `password` (not under --plan), whatever became of the steps after it. */
  stored: boolean
}

/**
 * `users add|remove|rotate`. registry.users in homelab.yaml decides who exists, so add and remove edit that list
 * (comments kept); passwords never go into the file, they go into the credentials Secret. Then the credentials and
 * htpasswd Secrets are re-converged exactly as bootstrap would, so a later bootstrap changes nothing.
 */
export async function runUsersCommand(ctx: ToolContext, command: UsersCommand, target: UsersTarget): Promise<UsersOutcome> {
  const registry = ctx.config.registry
  checkUsersCommand(registry, command, target)
  await checkNoUnfinishedRotation(ctx, command)
  const password = command.verb === 'remove' ? undefined : (command.verb === 'add' && command.password) || new Secret(randomBytes(24).toString('base64url'))
  const users = command.verb === 'add' ? [...registry.users, { name: command.name }] : command.verb === 'remove' ? registry.users.filter((u) => u.name !== command.name) : registry.users
  const edited = { ...registry, users }
  const credentials = await resolveRegistryCredentials(ctx.kube(), edited, password ? { passwordOverrides: { [command.name]: password } } : {})
  const kube = ctx.kube()
  const fileStep = command.verb === 'rotate' ? [] : [configUsersStep(target.configFile.path, { op: command.verb, name: command.name }, registry.users.map((u) => u.name))]
  const credentialsStep = applyStep(kube, credentials.credentialsSecret, { force: ctx.forceConflicts, needs: fileStep.map((s) => s.name) })
  const htpasswdStep = applyStep(kube, credentials.htpasswdSecret, { force: ctx.forceConflicts, needs: [credentialsStep.name] })
  const run = await runSteps([...fileStep, credentialsStep, htpasswdStep], { title: `registry users ${command.verb} ${command.name}`, plan: ctx.plan, reporter: ctx.reporter, signal: ctx.signal })
  const credentialsResult = run.results.find((r) => r.step === credentialsStep.name)
  const stored = !ctx.plan && password !== undefined && (credentialsResult?.status === 'changed' || credentialsResult?.status === 'ok')
  return { run, name: command.name, password, stored }
}

/** Refuses what would not stick: a later bootstrap must agree with what the command did. */
function checkUsersCommand(registry: HomelabConfig['registry'], command: UsersCommand, target: UsersTarget): void {
  const index = registry.users.findIndex((u) => u.name === command.name)
  const user = registry.users[index]
  const fail = (message: string, hint: string) => {
    throw new RegistryUsersError(message, { key: 'registry.users', path: target.configFile.path, hint })
  }
  if (command.verb === 'add' && user) fail(`user ${command.name} is already in registry.users`, `use "users rotate ${command.name}" for a new password`)
  if (command.verb !== 'add' && !user) fail(`user ${command.name} is not in registry.users`, `the users are: ${registry.users.map((u) => u.name).join(', ')}`)
  if (command.verb === 'remove' && registry.users.length === 1) fail(`cannot remove ${command.name}, the only user`, 'the registry refuses every login without a user; add another first')
  if (command.verb === 'rotate' && user?.password) {
    fail(`the password of ${command.name} comes from config (registry.users[${index}].password, passwordFile or HOMELAB_REGISTRY__USERS__${index}__PASSWORD)`, 'change it there and run bootstrap')
  }
  // node-trust gives every K3s node registry.users[0]'s login (registries.yaml): changing it here would leave the
  // nodes with a password the registry refuses, and every pull would fail until node-trust ran again.
  if (command.verb === 'rotate' && index === 0) {
    fail(`${command.name} is registry.users[0], the login every K3s node pulls with; a new password here would break pulls on the nodes`, 'run pnpm rotate-credentials instead: it rolls the new password out to every node and proves a pull on each')
  }
  if (command.verb === 'remove' && index === 0) {
    fail(`${command.name} is registry.users[0], the login every K3s node pulls with; removing it would break pulls on the nodes`, `put another user first in registry.users, run pnpm turbo bootstrap (the nodes move to that login), then remove ${command.name}`)
  }
  if (command.verb === 'rotate') return
  if (target.configFile.source === 'example') fail('no homelab.yaml: users add and remove edit registry.users in your config file', 'copy homelab.example.yaml to homelab.yaml first')
  const fromEnv = Object.keys(target.env).find((k) => /^HOMELAB_REGISTRY__USERS(__\d+__NAME)?$/.test(k) && target.env[k])
  if (fromEnv) fail(`registry.users is overridden by ${fromEnv}, so editing the config file would not change who exists`, `unset ${fromEnv} or edit it instead`)
  if (command.verb === 'remove') {
    const shifting = positionalUserEnv(target.env, index)
    if (shifting.length > 0) {
      fail(
        `${shifting.join(', ')} ${shifting.length === 1 ? 'sets' : 'set'} registry.users by position: removing ${command.name} (registry.users[${index}]) moves every later user up one, so ${shifting.length === 1 ? 'it' : 'they'} would apply to another user (a password to the wrong login)`,
        `unset ${shifting.join(', ')} (move the value to that user's entry in ${target.configFile.path}, or to the variable of its new index after the removal), then run users remove ${command.name} again`,
      )
    }
  }
}

/**
 * The record `pnpm rotate-credentials` keeps while a rotation is unfinished (tasks/runbooks/rotation-state.ts writes
 * and reads it): key `user` names whose password it is moving to the one under `next`.
 */
export const ROTATION_RECORD = 'registry-rotation'

/** A users command on the user an unfinished rotation is for would be undone, or undo it, when the rotation resumes. */
async function checkNoUnfinishedRotation(ctx: ToolContext, command: UsersCommand): Promise<void> {
  const namespace = ctx.config.kubernetes.namespace
  const record = await ctx.kube().get({ apiVersion: 'v1', kind: 'Secret', namespace, name: ROTATION_RECORD })
  const user = (record?.['data'] as Record<string, string> | undefined)?.['user']
  if (user === undefined || Buffer.from(user, 'base64').toString('utf8') !== command.name) return
  throw new RegistryUsersError(`a pnpm rotate-credentials of ${command.name}'s password is unfinished (Secret ${namespace}/${ROTATION_RECORD}), so users ${command.verb} ${command.name} would clash with it`, {
    key: 'registry.users',
    hint: `finish it first (pnpm rotate-credentials), or, if it is abandoned, delete the record (kubectl -n ${namespace} delete secret ${ROTATION_RECORD}), then run users ${command.verb} ${command.name} again`,
  })
}

/** Pure: the set `HOMELAB_REGISTRY__USERS__<j>__*` variables with j >= from, which a removal at `from` would shift. */
function positionalUserEnv(env: UsersTarget['env'], from: number): string[] {
  return Object.keys(env)
    .filter((k) => {
      const position = /^HOMELAB_REGISTRY__USERS__(\d+)__/.exec(k)?.[1]
      return position !== undefined && Number(position) >= from && env[k]
    })
    .sort()
}

/** Where the user finds a password they did not ask to see. */
export const passwordLocation = (registry: HomelabConfig['registry'], name: string) =>
  `the password of ${name} is kept in Secret ${describeRef({ apiVersion: 'v1', kind: 'Secret', name: registry.auth.credentialsSecretName, namespace: registry.namespace })} key ${name}; pass --show-password or --password-file FILE to receive it`

/** A password stored in the credentials Secret that the registry does not take yet: a step after it failed. */
export const storedNotLive = (registry: HomelabConfig['registry'], name: string) =>
  `the new password of ${name} is stored in ${describeRef({ apiVersion: 'v1', kind: 'Secret', name: registry.auth.credentialsSecretName, namespace: registry.namespace })} key ${name}, but a later step failed, so the registry may still refuse it; ` +
  `fix what failed and run pnpm turbo bootstrap: it puts the stored password in place (users rotate would make yet another)`
