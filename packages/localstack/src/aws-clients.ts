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

export type AwsClients = { s3: S3Client; sqs: SQSClient; sns: SNSClient; dynamodb: DynamoDBClient; lambda: LambdaClient; destroy(): void }

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
  const requestHandler = new NodeHttpHandler({ httpsAgent, httpAgent, connectionTimeout: options.timeoutMs, requestTimeout: options.timeoutMs })
  const common = { endpoint: endpoint.url, region: options.region, credentials: DUMMY_CREDENTIALS, requestHandler, maxAttempts: 2 }
  const clients = {
    // Path-style: `<bucket>.<host>` would need wildcard DNS and a wildcard route.
    s3: new S3Client({ ...common, forcePathStyle: true }),
    sqs: new SQSClient(common),
    sns: new SNSClient(common),
    dynamodb: new DynamoDBClient(common),
    lambda: new LambdaClient(common),
  }
  return {
    ...clients,
    destroy: () => {
      for (const client of Object.values(clients)) client.destroy()
      httpsAgent.destroy()
      httpAgent.destroy()
    },
  }
}
