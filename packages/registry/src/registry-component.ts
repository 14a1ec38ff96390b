import type { Component, ToolContext } from '@homelab/core'
import { resolveRegistryCredentials } from './registry-credentials.js'
import { registrySteps } from './registry-steps.js'
import { registryVerifySteps } from './registry-verify.js'
import { renderRegistryObjects } from './render-registry-objects.js'

/** Builds the steps from config and what the cluster keeps (stored passwords, current htpasswd); reads only. */
export async function registryBootstrapSteps(ctx: ToolContext) {
  const kube = ctx.kube()
  const objects = renderRegistryObjects(ctx.config)
  const credentials = await resolveRegistryCredentials(kube, ctx.config.registry)
  return registrySteps(kube, objects, credentials, { force: ctx.forceConflicts, timeouts: ctx.config.timeouts, caNamespace: ctx.config.tls.ca.namespace })
}

/** The private registry: Distribution + htpasswd + TLS at Traefik + Joxit UI + metrics. */
export const registry: Component = {
  name: 'registry',
  bootstrap: registryBootstrapSteps,
  verify: registryVerifySteps,
}
