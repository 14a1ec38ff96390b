// The smoke checks' SDK clients against an endpoint that fails every call with a retryable 500: calls that are not
// safe to send twice go out once, the others twice; Invoke gets a longer per-request limit than the rest.
import { createServer, type IncomingMessage, type Server, type ServerResponse } from 'node:http'
import { GetFunctionCommand, InvokeCommand } from '@aws-sdk/client-lambda'
import { PublishCommand } from '@aws-sdk/client-sns'
import { GetQueueAttributesCommand, SendMessageCommand } from '@aws-sdk/client-sqs'
import { reportHookErrors } from '@homelab/lab'
import { suite } from 'uvu'
import * as assert from 'uvu/assert'
import { createAwsClients } from '../src/aws-clients.js'
import { runSmoke } from '../src/aws-smoke.js'
import type { LocalstackEndpoint } from '../src/index.js'

type Ctx = { server: Server; endpoint: LocalstackEndpoint; seen: string[]; slowMs: number }
const Retries = suite<Ctx>('smoke-check SDK clients', {} as Ctx)

/** `DynamoDB_20120810.CreateTable`, `Action=SendMessage` (query), `AmazonSQS.SendMessage` (JSON) or `PUT /bucket`. */
async function operationOf(req: IncomingMessage): Promise<string> {
  const chunks: Buffer[] = []
  for await (const chunk of req) chunks.push(chunk as Buffer)
  const target = req.headers['x-amz-target']
  if (typeof target === 'string') return target.split('.').at(-1)!
  const action = /(?:^|&)Action=(\w+)/.exec(Buffer.concat(chunks).toString())?.[1]
  return action ?? `${req.method} ${new URL(req.url ?? '/', 'http://x').pathname}`
}

Retries.before(reportHookErrors(async (ctx) => {
  ctx.seen = []
  ctx.slowMs = 0
  ctx.server = createServer((req: IncomingMessage, res: ServerResponse) => {
    void operationOf(req).then((operation) => {
      ctx.seen.push(operation)
      const answer = () => {
        if (operation.endsWith('/invocations')) return res.writeHead(200, { 'content-type': 'application/json' }).end('{"ok":true}')
        res.writeHead(500, { 'content-type': 'application/json' }).end('{"__type":"InternalFailure","message":"try again"}')
      }
      if (ctx.slowMs) setTimeout(answer, ctx.slowMs)
      else answer()
    })
  })
  await new Promise<void>((resolve) => ctx.server.listen(0, '127.0.0.1', resolve))
  ctx.endpoint = { url: `http://127.0.0.1:${(ctx.server.address() as { port: number }).port}`, connectTo: '127.0.0.1', ca: undefined }
}))
Retries.before.each((ctx) => {
  ctx.seen.length = 0
  ctx.slowMs = 0
})
Retries.after(async (ctx) => {
  ctx.server?.closeAllConnections()
  await new Promise((resolve) => ctx.server?.close(resolve))
})

const stepContext = { plan: false, progress: () => undefined, warn: () => undefined, signal: new AbortController().signal }
const count = (seen: string[], operation: string) => seen.filter((s) => s === operation).length

Retries('CreateBucket, CreateTable and CreateFunction are sent once when they fail', async (ctx) => {
  const cases: [string, (s: string) => boolean][] = [
    ['s3', (s) => /^PUT \/smoke-s3-bucket\/?$/.test(s)],
    ['dynamodb', (s) => s === 'CreateTable'],
    ['lambda', (s) => s === 'POST /2015-03-31/functions'],
  ]
  for (const [service, isCreate] of cases) {
    ctx.seen.length = 0
    try {
      await runSmoke(service, ctx.endpoint, { region: 'us-east-1', timeoutMs: 5000, prefix: 'smoke', ctx: stepContext })
      assert.unreachable('a failing endpoint passed the smoke check')
    } catch (error) {
      assert.match((error as Error).message, /failed/)
    }
    assert.is(ctx.seen.filter(isCreate).length, 1, `${service}: ${ctx.seen.join(', ')}`)
  }
})

Retries('SendMessage and Publish go out once; a read is tried twice', async (ctx) => {
  const aws = createAwsClients(ctx.endpoint, { region: 'us-east-1', timeoutMs: 5000 })
  try {
    const fails = (call: Promise<unknown>) => call.then(() => assert.unreachable('answered'), () => undefined)
    await fails(aws.once.sqs.send(new SendMessageCommand({ QueueUrl: `${ctx.endpoint.url}/000000000000/q`, MessageBody: 'x' })))
    await fails(aws.once.sns.send(new PublishCommand({ TopicArn: 'arn:aws:sns:us-east-1:000000000000:t', Message: 'x' })))
    await fails(aws.sqs.send(new GetQueueAttributesCommand({ QueueUrl: `${ctx.endpoint.url}/000000000000/q` })))
    await fails(aws.lambda.send(new GetFunctionCommand({ FunctionName: 'f' })))
    assert.is(count(ctx.seen, 'SendMessage'), 1, ctx.seen.join(', '))
    assert.is(count(ctx.seen, 'Publish'), 1, ctx.seen.join(', '))
    assert.is(count(ctx.seen, 'GetQueueAttributes'), 2, 'the 500 is retryable: reads are tried again')
    assert.is(count(ctx.seen, 'GET /2015-03-31/functions/f'), 2, ctx.seen.join(', '))
  } finally {
    aws.destroy()
  }
})

Retries('a call slower than the timeout fails; Invoke has a longer limit and waits for its answer', async (ctx) => {
  const aws = createAwsClients(ctx.endpoint, { region: 'us-east-1', timeoutMs: 300 })
  ctx.slowMs = 1000
  try {
    assert.ok(aws.invokeTimeoutMs >= 60_000, `Invoke may wait ${aws.invokeTimeoutMs} ms`)
    const started = Date.now()
    await aws.once.lambda.send(new GetFunctionCommand({ FunctionName: 'f' })).then(() => assert.unreachable('answered'), (error: Error) => assert.match(`${error.name} ${error.message}`, /Timeout|timed out|requestTimeout/i))
    assert.ok(Date.now() - started < 1000, 'the request timeout did not end the call')
    const answer = await aws.once.lambda.send(new InvokeCommand({ FunctionName: 'f', Payload: Buffer.from('{}') }), { requestTimeout: aws.invokeTimeoutMs })
    assert.is(Buffer.from(answer.Payload ?? new Uint8Array()).toString(), '{"ok":true}')
    assert.is(count(ctx.seen, 'POST /2015-03-31/functions/f/invocations'), 1)
  } finally {
    aws.destroy()
  }
})

Retries.run()
