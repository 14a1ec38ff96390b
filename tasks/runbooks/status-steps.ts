import { describeRef, toolNamespace, type Component, type KubeClient, type Step, type ToolContext } from '@homelab/core'
import { createStatusClient, gatewayProblems, imageVersion, localstackEndpointFromCluster } from '@homelab/localstack'
import { NodeLookupError, readyCondition, resolveNodeName, trustNodes, type TrustNode } from '@homelab/node-trust'
import { deploymentReadiness } from '@homelab/registry'
import { driftStep, healthStep } from './drift-step.js'
import { lastFullVerifyFailure } from './full-verify-record.js'
import { registryEndpoint } from './registry-endpoint.js'

/**
 * What `status` checks for one component: every bootstrap step as drift (objects, DNS records, node files) plus
 * read-only health probes. Nothing is applied; waits are skipped (they belong to a bootstrap).
 */
export async function statusSteps(component: Component, ctx: ToolContext): Promise<Step<any, any, any>[]> {
  const drift = (await component.bootstrap(ctx)).map(driftStep)
  return [...drift, ...healthSteps(component.name, ctx)]
}

function healthSteps(name: string, ctx: ToolContext): Step<any, any, any>[] {
  const kube = () => ctx.kube()
  const { config } = ctx
  if (name === 'registry') {
    const deployments = [config.registry.namespace + '/registry', ...(config.registry.ui.enabled ? [config.registry.namespace + '/registry-ui'] : [])]
    return [
      ...deployments.map((d) => healthStep(`health: Deployment ${d} available`, () => deploymentProblem(kube(), d))),
      healthStep(`health: https://${config.registry.hosts.registry}/v2/ answers`, () => registryProblem(ctx)),
    ]
  }
  if (name === 'localstack' && config.localstack.enabled) {
    return [
      healthStep(`health: Deployment ${config.localstack.namespace}/localstack available`, () => deploymentProblem(kube(), `${config.localstack.namespace}/localstack`)),
      healthStep(`health: https://${config.localstack.host}/_localstack/health answers`, () => localstackProblem(ctx)),
    ]
  }
  if (name === toolNamespace.name) {
    // What a no-op bootstrap's quick verify cannot see: the last full verify's failures, until one passes.
    return [healthStep('health: the last full verify passed', async () => {
      const failure = await lastFullVerifyFailure(kube(), config.kubernetes.namespace, ctx.reporter, { strict: true })
      return failure && `the last full verify failed (${failure.at}: ${failure.steps.join('; ')}); \`pnpm verify-all\` checks again`
    })]
  }
  if (name === 'node-trust') {
    return trustNodes(config, ctx.acceptNewHostKeys).map((node) => healthStep(`health: Node ${node.label} Ready`, () => nodeProblem(kube(), node)))
  }
  return []
}

/** Read once, no waiting: status reports how things are, bootstrap is what waits. */
async function deploymentProblem(kube: KubeClient, namespacedName: string): Promise<string | undefined> {
  const [namespace, name] = namespacedName.split('/') as [string, string]
  const ref = { apiVersion: 'apps/v1', kind: 'Deployment', namespace, name }
  const object = await kube.get(ref)
  if (!object) return `${describeRef(ref)} does not exist`
  const want = (object['spec'] as { replicas?: number } | undefined)?.replicas ?? 1
  // Rolled out as bootstrap's own wait sees it (a new pod that never came up, beside the old one, is not), and running.
  const readiness = deploymentReadiness(object)
  return readiness.done && want > 0 ? undefined : `${describeRef(ref)}: ${readiness.seen}`
}

async function registryProblem(ctx: ToolContext): Promise<string | undefined> {
  const endpoint = await registryEndpoint(ctx)
  const client = endpoint.client(undefined)
  try {
    // Without a login a healthy registry says 401; Traefik says 502/503 when no pod is behind the route.
    const response = await client.request('GET', '/v2/', { expect: [200, 401, 404, 502, 503, 504] })
    return response.status === 401 ? undefined : `https://${endpoint.host}/v2/ answered ${response.status} through Traefik (${endpoint.ingressIp}), expected 401 (auth required)`
  } finally {
    await client.close()
  }
}

/** The gateway's own health document: running, and the version and edition configured. Read-only. */
async function localstackProblem(ctx: ToolContext): Promise<string | undefined> {
  const { localstack } = ctx.config
  const client = createStatusClient(await localstackEndpointFromCluster(ctx), { timeoutMs: ctx.config.timeouts.http.milliseconds })
  try {
    const problems = gatewayProblems(await client.health(), { version: imageVersion(localstack.image), edition: localstack.edition })
    return problems.length > 0 ? `LocalStack at ${localstack.host}: ${problems.join('; ')}` : undefined
  } finally {
    await client.close()
  }
}

/** The Node as node-trust finds it: by `name`, else by the address it is reached at (status.addresses). */
async function nodeProblem(kube: KubeClient, node: TrustNode): Promise<string | undefined> {
  let name: string
  try {
    name = await resolveNodeName(kube, node)
  } catch (error) {
    if (error instanceof NodeLookupError) return error.message
    throw error
  }
  const ready = readyCondition(await kube.get({ apiVersion: 'v1', kind: 'Node', name }))
  return ready?.status === 'True' ? undefined : `Node ${name} is not Ready (${ready ? `Ready=${ready.status}` : 'no such Node or no Ready condition'})`
}
