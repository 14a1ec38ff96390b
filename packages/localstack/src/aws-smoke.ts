import type { StepContext } from '@homelab/core'
import { createAwsClients } from './aws-clients.js'
import { endpointHost, type LocalstackEndpoint } from './localstack-endpoint.js'
import { smokeDynamodb } from './smoke-dynamodb.js'
import { smokeLambda } from './smoke-lambda.js'
import { smokeS3 } from './smoke-s3.js'
import { smokeSns } from './smoke-sns.js'
import { smokeSqs } from './smoke-sqs.js'
import type { SmokeRun } from './smoke-run.js'

type Smoke = (run: SmokeRun) => Promise<void>
const SMOKES: Record<string, Smoke> = { s3: smokeS3, sqs: smokeSqs, sns: smokeSns, dynamodb: smokeDynamodb, lambda: smokeLambda }

/** Pure. Whether a service has a smoke check beyond its health state. */
export const hasSmoke = (service: string): boolean => service in SMOKES

/**
 * One service's smoke check through the AWS SDK. Everything that loads the SDK lives behind this module, which the
 * verify steps import only when a smoke check runs: a run that never makes one (bootstrap, a quick verify) does not
 * pay for loading five SDK clients.
 */
export async function runSmoke(service: string, endpoint: LocalstackEndpoint, input: { region: string; timeoutMs: number; prefix: string; ctx: StepContext }): Promise<void> {
  const smoke = SMOKES[service]
  if (!smoke) return
  const aws = createAwsClients(endpoint, { region: input.region, timeoutMs: input.timeoutMs })
  try {
    await smoke({ aws, prefix: `${input.prefix}-${service}`, region: input.region, endpointUrl: endpoint.url, publicHost: endpointHost(endpoint), ctx: input.ctx })
  } finally {
    aws.destroy()
  }
}
