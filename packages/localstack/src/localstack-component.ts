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

/** The `profile` task's steps: HOME comes from the task's environment, the CA from the cluster when mode is ca. */
export function localstackProfileSteps(ctx: ToolContext) {
  const endpoint = sharedEndpoint(ctx)
  const home = ctx.env['HOME']
  if (!home) throw new AwsProfileError('HOME is not set, so there is no ~/.aws to write the profile to', { hint: 'run the task with HOME set' })
  return awsProfileSteps({
    home,
    profile: ctx.config.localstack.profile.name,
    endpointUrl: `https://${ctx.config.localstack.host}`,
    region: ctx.config.localstack.region,
    caPem: async () => (ctx.config.tls.mode === 'ca' ? (await endpoint()).ca : undefined),
  })
}
