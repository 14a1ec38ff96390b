import { randomBytes } from 'node:crypto'
import { checkStep, leftToFullVerify, StepSkipped, type HomelabConfig, type Step } from '@homelab/core'
import { HealthError } from './errors/health-error.js'
import type { LocalstackEndpoint } from './localstack-endpoint.js'
import { createStatusClient, gatewayProblems, serviceProblem } from './localstack-health.js'
import { imageVersion } from './localstack-names.js'

export type VerifyOptions = {
  timeoutMs: number
  /** Unique per run, so two verifies never touch each other's resources. */
  prefix?: string
  /** The gateway's health only: no smoke resources made. */
  quick?: boolean
}

/** `hl-verify-<time>-<random>`: lower case and short, valid as a bucket, queue, table and function name. */
export const runPrefix = () => `hl-verify-${Date.now().toString(36)}-${randomBytes(3).toString('hex')}`

/**
 * One step for the gateway, one per wanted service (health state, then its smoke check), and one for persistence.
 * Each service fails on its own: a broken DynamoDB does not hide a working S3. Every step finds its endpoint through
 * `endpoint()`, so a cluster lookup that fails is reported by each step rather than aborting the run.
 */
export function localstackVerifySteps(config: HomelabConfig, endpoint: () => Promise<LocalstackEndpoint>, options: VerifyOptions): Step<any, any, any>[] {
  const { localstack } = config
  if (!localstack.enabled) return [checkStep('localstack verify', async () => Promise.reject(new StepSkipped('localstack.enabled is false')))]
  const prefix = options.prefix ?? runPrefix()
  const status = async () => createStatusClient(await endpoint(), options)
  const gateway = checkStep('localstack health', async () => {
    const client = await status()
    try {
      const problems = gatewayProblems(await client.health(), { version: imageVersion(localstack.image), edition: localstack.edition })
      if (problems.length > 0) throw new HealthError(`LocalStack at ${localstack.host}: ${problems.join('; ')}`, { host: localstack.host, hint: 'run bootstrap so the Deployment runs the configured image' })
    } finally {
      await client.close()
    }
  })
  const services = localstack.services.map((service) => serviceStep(config, service, { endpoint, prefix, timeoutMs: options.timeoutMs }))
  const smoke = [...services, persistenceStep(config, status)]
  return [gateway, ...(options.quick ? leftToFullVerify('localstack', smoke) : smoke)]
}

type ServiceStepInput = { endpoint: () => Promise<LocalstackEndpoint>; prefix: string; timeoutMs: number }

function serviceStep(config: HomelabConfig, service: string, input: ServiceStepInput): Step<null, never> {
  // SNS is proven by delivery to an SQS queue: without a working SQS it can only be skipped.
  const needs = service === 'sns' && config.localstack.services.includes('sqs') ? ['localstack sqs'] : undefined
  return checkStep(`localstack ${service}`, async (ctx) => {
    const endpoint = await input.endpoint()
    const status = createStatusClient(endpoint, input)
    const problem = serviceProblem(await status.health().finally(() => status.close()), service)
    if (problem) throw new HealthError(`LocalStack at ${config.localstack.host}: ${problem}`, { host: config.localstack.host })
    const { hasSmoke, runSmoke } = await import('./aws-smoke.js')
    if (!hasSmoke(service)) return ctx.warn(`no smoke check for ${service}: only its health state was checked`)
    await runSmoke(service, endpoint, { region: config.localstack.region, timeoutMs: input.timeoutMs, prefix: input.prefix, ctx })
  }, needs)
}

/**
 * Community LocalStack has no persistence (PERSISTENCE=1 is a paid-tier feature), so it is never reported as passed.
 * With a token: the licence must be active, and the health's persistence feature, when listed, initialised.
 */
function persistenceStep(config: HomelabConfig, status: () => Promise<ReturnType<typeof createStatusClient>>): Step<null, never> {
  return checkStep('localstack persistence', async () => {
    if (config.localstack.edition === 'community') throw new StepSkipped('needs a LocalStack auth token')
    const client = await status()
    try {
      const [info, health] = await Promise.all([client.info(), client.health()])
      if (!info.is_license_activated) throw new HealthError(`LocalStack at ${config.localstack.host}: the licence is not activated, so PERSISTENCE=1 does nothing`, { key: 'localstack.authToken', hint: 'check the auth token' })
      const feature = health.features?.['persistence']
      if (feature !== undefined && feature !== 'initialized') throw new HealthError(`LocalStack at ${config.localstack.host}: persistence is ${feature}`, { hint: 'check PERSISTENCE=1 and the state volume' })
    } finally {
      await client.close()
    }
  })
}
