import { isAbsolute, join, resolve } from 'node:path'
import { checkStep, StepSkipped, type Component, type Step, type ToolContext } from '@homelab/core'
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
 *
 * With LocalStack switched off nothing is written, and nothing removed: the files keep no record of which keys of
 * the section we wrote and which the user did (a merge keeps theirs), so the section is left for its owner to delete.
 */
export function localstackProfileSteps(ctx: ToolContext): Step<any, any, any>[] {
  const { profile } = ctx.config.localstack
  if (!ctx.config.localstack.enabled) {
    const reason =
      `localstack.enabled is false: no profile written; what an earlier run wrote ([profile ${profile.name}] in the AWS config file, ` +
      `[${profile.name}] in the credentials file, ${profile.name}-ca.pem beside the config) is left as it is: delete it by hand if no longer wanted`
    return [checkStep('aws profile', () => Promise.reject(new StepSkipped(reason)))]
  }
  const endpoint = sharedEndpoint(ctx)
  const home = ctx.env['HOME']
  if (!home) throw new AwsProfileError('HOME is not set, so there is no ~/.aws to write the profile to', { hint: 'run the task with HOME set' })
  return awsProfileSteps({
    home,
    configFile: awsFileFromEnv(ctx.env, 'AWS_CONFIG_FILE', home),
    credentialsFile: awsFileFromEnv(ctx.env, 'AWS_SHARED_CREDENTIALS_FILE', home),
    profile: profile.name,
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
