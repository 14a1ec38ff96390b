import type { IncomingMessage, ServerResponse } from 'node:http'
import { setTimeout as sleep } from 'node:timers/promises'
import { sendJson, startEmulatorServer, type RunningEmulator } from './emulator-server.js'
import { regionOf } from './localstack-edge-routing.js'
import type { SqsQueue, SqsQueues } from './sqs-queues.js'

type SqsInput = Record<string, unknown>
type SqsAction = (input: SqsInput, region: string) => Promise<unknown> | unknown

class SqsFault extends Error {
  constructor(
    readonly type: string,
    readonly queryCode: string,
    message: string,
  ) {
    super(message)
  }
}

const text = (input: SqsInput, key: string): string => {
  const value = input[key]
  if (typeof value !== 'string' || value === '') throw new SqsFault('com.amazonaws.sqs#MissingParameter', 'MissingParameter', `The request must contain the parameter ${key}.`)
  return value
}

function queueOf(queues: SqsQueues, input: SqsInput): SqsQueue {
  const queue = queues.byUrl(text(input, 'QueueUrl'))
  if (!queue) throw new SqsFault('com.amazonaws.sqs#QueueDoesNotExist', 'AWS.SimpleQueueService.NonExistentQueue', 'The specified queue does not exist.')
  return queue
}

/** Only the calls the smoke test makes, in the AWS JSON 1.0 protocol SDK v3 speaks to SQS. */
function sqsActions(queues: SqsQueues): Record<string, SqsAction> {
  return {
    CreateQueue: (input, region) => ({ QueueUrl: queues.create(text(input, 'QueueName'), region).url }),
    GetQueueUrl: (input) => {
      const queue = queues.byName(text(input, 'QueueName'))
      if (!queue) throw new SqsFault('com.amazonaws.sqs#QueueDoesNotExist', 'AWS.SimpleQueueService.NonExistentQueue', 'The specified queue does not exist.')
      return { QueueUrl: queue.url }
    },
    GetQueueAttributes: (input) => {
      const queue = queueOf(queues, input)
      return { Attributes: { QueueArn: queue.arn, ApproximateNumberOfMessages: String(queue.messages.length) } }
    },
    SetQueueAttributes: (input) => (queueOf(queues, input), {}),
    SendMessage: (input) => {
      const message = queues.send(queueOf(queues, input), text(input, 'MessageBody'))
      return { MessageId: message.id, MD5OfMessageBody: message.md5 }
    },
    ReceiveMessage: (input) => receiveMessages(queues, input),
    DeleteMessage: (input) => {
      const queue = queueOf(queues, input)
      if (!queues.deleteMessage(queue, text(input, 'ReceiptHandle'))) {
        throw new SqsFault('com.amazonaws.sqs#ReceiptHandleIsInvalid', 'ReceiptHandleIsInvalid', 'The input receipt handle is invalid.')
      }
      return {}
    },
    DeleteQueue: (input) => (queues.delete(queueOf(queues, input).name), {}),
  }
}

/** Long polling as SQS does it: answers as soon as something is there, or empty when WaitTimeSeconds runs out. */
async function receiveMessages(queues: SqsQueues, input: SqsInput) {
  const queue = queueOf(queues, input)
  const max = Number(input['MaxNumberOfMessages'] ?? 1)
  const visibilityMs = Number(input['VisibilityTimeout'] ?? 30) * 1000
  const deadline = Date.now() + Math.min(Number(input['WaitTimeSeconds'] ?? 0), 20) * 1000
  for (;;) {
    const messages = queues.receive(queue, max, visibilityMs)
    if (messages.length > 0 || Date.now() >= deadline) {
      return { Messages: messages.map((m) => ({ MessageId: m.id, ReceiptHandle: m.receiptHandle, MD5OfBody: m.md5, Body: m.body })) }
    }
    await sleep(50)
  }
}

export function startSqsEmulator(ip: string, queues: SqsQueues): Promise<RunningEmulator> {
  const actions = sqsActions(queues)
  return startEmulatorServer('sqs', ip, async (request, body, response) => answerSqs(actions, request, body, response))
}

async function answerSqs(actions: Record<string, SqsAction>, request: IncomingMessage, body: Buffer, response: ServerResponse) {
  const target = String(request.headers['x-amz-target'] ?? '')
  const action = actions[target.replace(/^AmazonSQS\./, '')]
  if (!target.startsWith('AmazonSQS.') || !action) {
    const message = `the lab's SQS emulator speaks AWS JSON 1.0 and only the smoke test's calls; got X-Amz-Target ${JSON.stringify(target)}`
    return sendJson(response, 400, { __type: 'com.amazonaws.sqs#InvalidAction', message }, { 'x-amzn-query-error': 'InvalidAction;Sender' })
  }
  try {
    const input = body.length > 0 ? (JSON.parse(body.toString('utf8')) as SqsInput) : {}
    sendJson(response, 200, await action(input, regionOf(request.headers) ?? 'us-east-1'))
  } catch (error) {
    if (!(error instanceof SqsFault)) throw error
    // SDK v3 reads the query-compatible code from this header (awsQueryCompatible).
    sendJson(response, 400, { __type: error.type, message: error.message }, { 'x-amzn-query-error': `${error.queryCode};Sender` })
  }
}
