import { isAbsolute, join, resolve } from 'node:path'
import type { Component, ToolContext } from '@homelab/core'
import { awsProfileSteps } from './aws-profile-steps.js'
import { AwsProfileError } from './errors/aws-profile-error.js'
import { localstackBootstrapSteps } from './localstack-bootstrap-steps.js'
import { localstackEndpointFromCluster, type LocalstackEndpoint } from './localstack-endpoint.js'
import { localstackVerifySteps } from './localstack-verify-steps.js'

/** The endpoint is looked up once per run, on first use, and shared by every verify step. */
function sharedEndpoint(ctx: ToolContext): () => Promise<LocalstackEndpoint> {
  let endpoint: Promise<LocalstackEndpoint> | undefined
  return () => (endpoint ??= localstackEndpointFromCluster(ctx))
}

export const localstack: Component = {
  name: 'localstack',
  bootstrap: async (ctx) => localstackBootstrapSteps(ctx),
  verify: async (ctx) => localstackVerifySteps(ctx.config, sharedEndpoint(ctx), { timeoutMs: ctx.config.timeouts.http.milliseconds, quick: ctx.quick }),
}

/**
 * The `profile` task's steps: HOME, AWS_CONFIG_FILE and AWS_SHARED_CREDENTIALS_FILE come from the task's environment
 * (the files the AWS CLI would read), the CA from the cluster when mode is ca.
 */
export function localstackProfileSteps(ctx: ToolContext) {
  const endpoint = sharedEndpoint(ctx)
  const home = ctx.env['HOME']
  if (!home) throw new AwsProfileError('HOME is not set, so there is no ~/.aws to write the profile to', { hint: 'run the task with HOME set' })
  return awsProfileSteps({
    home,
    configFile: awsFileFromEnv(ctx.env, 'AWS_CONFIG_FILE', home),
    credentialsFile: awsFileFromEnv(ctx.env, 'AWS_SHARED_CREDENTIALS_FILE', home),
    profile: ctx.config.localstack.profile.name,
    endpointUrl: `https://${ctx.config.localstack.host}`,
    region: ctx.config.localstack.region,
    caPem: async () => (ctx.config.tls.mode === 'ca' ? (await endpoint()).ca : undefined),
  })
}

/** The path as the AWS CLI reads it: `~` is HOME; a relative path is taken from where the user ran the command. */
function awsFileFromEnv(env: ToolContext['env'], variable: string, home: string): string | undefined {
  const value = env[variable]
  if (!value) return undefined
  const expanded = value === '~' || value.startsWith('~/') ? join(home, value.slice(1)) : value
  if (isAbsolute(expanded)) return expanded
  // pnpm runs the task in the package folder; INIT_CWD is where the user typed the command.
  const base = env['INIT_CWD'] ?? env['PWD']
  if (!base) throw new AwsProfileError(`${variable} is the relative path ${value} and the task does not know the folder it is relative to`, { key: variable, hint: `set ${variable} to an absolute path` })
  return resolve(base, expanded)
}
