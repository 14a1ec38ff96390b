import { Agent as HttpAgent } from 'node:http'
import { Agent as HttpsAgent } from 'node:https'
import { DynamoDBClient } from '@aws-sdk/client-dynamodb'
import { LambdaClient } from '@aws-sdk/client-lambda'
import { S3Client } from '@aws-sdk/client-s3'
import { SNSClient } from '@aws-sdk/client-sns'
import { SQSClient } from '@aws-sdk/client-sqs'
import { pinnedLookup } from '@homelab/core'
import { NodeHttpHandler } from '@smithy/node-http-handler'
import { endpointHost, type LocalstackEndpoint } from './localstack-endpoint.js'

type Clients = { s3: S3Client; sqs: SQSClient; sns: SNSClient; dynamodb: DynamoDBClient; lambda: LambdaClient }

export type AwsClients = Clients & {
  /**
   * The same clients with one attempt: for calls that are not safe to send twice (CreateBucket, CreateTable,
   * CreateFunction, Invoke, Publish, SendMessage). A retry after a lost answer would run the handler or deliver the
   * message twice, or fail with "already exists" although the first attempt worked.
   */
  once: Clients
  /** Per-request timeout for Invoke: a cold function may wait for its runtime environment, then run. */
  invokeTimeoutMs: number
  destroy(): void
}

/** The smoke function's own Timeout, in seconds (CreateFunction). */
export const SMOKE_FUNCTION_TIMEOUT_S = 30
// LAMBDA_RUNTIME_ENVIRONMENT_TIMEOUT as render-lambda-executor sets it: how long LocalStack waits for a cold runtime.
const RUNTIME_ENVIRONMENT_TIMEOUT_S = 60

// LocalStack maps any non-AKIA key to account 000000000000 and ignores the secret: these are not credentials.
const DUMMY_CREDENTIALS = { accessKeyId: 'test', secretAccessKey: 'test' }

/**
 * SDK v3 clients aimed at LocalStack's public host. The SDK has its own HTTP stack, so the name pinning and the CA
 * go into the agents of its NodeHttpHandler: the host resolves to the ingress IP here, whatever DNS says.
 */
export function createAwsClients(endpoint: LocalstackEndpoint, options: { region: string; timeoutMs: number }): AwsClients {
  const lookup = pinnedLookup({ [endpointHost(endpoint).toLowerCase()]: endpoint.connectTo })
  const httpsAgent = new HttpsAgent({ keepAlive: true, lookup: lookup as never, ...(endpoint.ca ? { ca: endpoint.ca } : {}) })
  const httpAgent = new HttpAgent({ keepAlive: true, lookup: lookup as never })
  // Without throwOnRequestTimeout the handler only prints a warning on the console when requestTimeout passes.
  const requestHandler = new NodeHttpHandler({ httpsAgent, httpAgent, connectionTimeout: options.timeoutMs, requestTimeout: options.timeoutMs, throwOnRequestTimeout: true })
  const make = (maxAttempts: number): Clients => {
    const common = { endpoint: endpoint.url, region: options.region, credentials: DUMMY_CREDENTIALS, requestHandler, maxAttempts }
    return {
      // Path-style: `<bucket>.<host>` would need wildcard DNS and a wildcard route.
      s3: new S3Client({ ...common, forcePathStyle: true }),
      sqs: new SQSClient(common),
      sns: new SNSClient(common),
      dynamodb: new DynamoDBClient(common),
      lambda: new LambdaClient(common),
    }
  }
  const clients = make(2)
  const once = make(1)
  return {
    ...clients,
    once,
    invokeTimeoutMs: options.timeoutMs + (RUNTIME_ENVIRONMENT_TIMEOUT_S + SMOKE_FUNCTION_TIMEOUT_S) * 1000,
    destroy: () => {
      for (const client of [...Object.values(clients), ...Object.values(once)]) client.destroy()
      httpsAgent.destroy()
      httpAgent.destroy()
    },
  }
}
