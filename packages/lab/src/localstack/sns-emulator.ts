import { randomUUID } from 'node:crypto'
import type { ServerResponse } from 'node:http'
import { ACCOUNT_ID, escapeXml, sendXml, startEmulatorServer, type RunningEmulator } from './emulator-server.js'
import { regionOf } from './localstack-edge-routing.js'
import type { SqsQueues } from './sqs-queues.js'

type Subscription = { arn: string; topicArn: string; protocol: string; endpoint: string; raw: boolean }
type SnsState = { topics: Set<string>; subscriptions: Map<string, Subscription>; queues: SqsQueues }
type SnsAction = (params: URLSearchParams, region: string, state: SnsState) => Record<string, string>

class SnsFault extends Error {
  constructor(
    readonly status: number,
    readonly code: string,
    message: string,
  ) {
    super(message)
  }
}

const XMLNS = 'http://sns.amazonaws.com/doc/2010-03-31/'

function required(params: URLSearchParams, key: string): string {
  const value = params.get(key)
  if (!value) throw new SnsFault(400, 'InvalidParameter', `Invalid parameter: ${key}`)
  return value
}

function existingTopic(state: SnsState, params: URLSearchParams): string {
  const arn = required(params, 'TopicArn')
  if (!state.topics.has(arn)) throw new SnsFault(404, 'NotFound', 'Topic does not exist')
  return arn
}

/** `Attributes.entry.N.key` / `.value` pairs, as the query protocol flattens a map. */
function attributesOf(params: URLSearchParams): Map<string, string> {
  const out = new Map<string, string>()
  for (let n = 1; params.has(`Attributes.entry.${n}.key`); n++) out.set(params.get(`Attributes.entry.${n}.key`)!, params.get(`Attributes.entry.${n}.value`) ?? '')
  return out
}

/** The SNS envelope LocalStack puts in the queue unless RawMessageDelivery is on. */
function envelope(topicArn: string, messageId: string, params: URLSearchParams): string {
  const subject = params.get('Subject')
  return JSON.stringify({
    Type: 'Notification',
    MessageId: messageId,
    TopicArn: topicArn,
    Message: params.get('Message') ?? '',
    ...(subject ? { Subject: subject } : {}),
    Timestamp: new Date().toISOString(),
    SignatureVersion: '1',
  })
}

const SNS_ACTIONS: Record<string, SnsAction> = {
  CreateTopic: (params, region, state) => {
    const arn = `arn:aws:sns:${region}:${ACCOUNT_ID}:${required(params, 'Name')}`
    state.topics.add(arn)
    return { TopicArn: arn }
  },
  Subscribe: (params, _region, state) => {
    const topicArn = existingTopic(state, params)
    const protocol = required(params, 'Protocol')
    if (protocol !== 'sqs') throw new SnsFault(400, 'InvalidParameter', `the lab's SNS emulator delivers to sqs only, not ${protocol}`)
    const arn = `${topicArn}:${randomUUID()}`
    const raw = attributesOf(params).get('RawMessageDelivery') === 'true'
    state.subscriptions.set(arn, { arn, topicArn, protocol, endpoint: required(params, 'Endpoint'), raw })
    return { SubscriptionArn: arn }
  },
  Publish: (params, _region, state) => {
    const topicArn = existingTopic(state, params)
    const messageId = randomUUID()
    for (const sub of state.subscriptions.values()) {
      const queue = sub.topicArn === topicArn ? state.queues.byArn(sub.endpoint) : undefined
      if (queue) state.queues.send(queue, sub.raw ? (params.get('Message') ?? '') : envelope(topicArn, messageId, params))
    }
    return { MessageId: messageId }
  },
  Unsubscribe: (params, _region, state) => {
    if (!state.subscriptions.delete(required(params, 'SubscriptionArn'))) throw new SnsFault(404, 'NotFound', 'Subscription does not exist')
    return {}
  },
  DeleteTopic: (params, _region, state) => {
    const arn = required(params, 'TopicArn')
    state.topics.delete(arn)
    for (const [key, sub] of state.subscriptions) if (sub.topicArn === arn) state.subscriptions.delete(key)
    return {}
  },
}

/** SNS in the AWS query protocol (form-encoded in, XML out), limited to the smoke test's calls. */
export function startSnsEmulator(ip: string, queues: SqsQueues): Promise<RunningEmulator> {
  const state: SnsState = { topics: new Set(), subscriptions: new Map(), queues }
  return startEmulatorServer('sns', ip, async (request, body, response) => {
    const params = new URLSearchParams(body.toString('utf8'))
    const name = params.get('Action') ?? ''
    const action = SNS_ACTIONS[name]
    if (!action) return sendSnsError(response, new SnsFault(400, 'InvalidAction', `the lab's SNS emulator does not implement ${JSON.stringify(name)}`))
    try {
      sendSnsResult(response, name, action(params, regionOf(request.headers) ?? 'us-east-1', state))
    } catch (error) {
      if (!(error instanceof SnsFault)) throw error
      sendSnsError(response, error)
    }
  })
}

function sendSnsResult(response: ServerResponse, action: string, result: Record<string, string>) {
  const fields = Object.entries(result).map(([k, v]) => `<${k}>${escapeXml(v)}</${k}>`).join('')
  const metadata = `<ResponseMetadata><RequestId>${randomUUID()}</RequestId></ResponseMetadata>`
  sendXml(response, 200, `<${action}Response xmlns="${XMLNS}"><${action}Result>${fields}</${action}Result>${metadata}</${action}Response>`)
}

function sendSnsError(response: ServerResponse, fault: SnsFault) {
  const error = `<Error><Type>Sender</Type><Code>${fault.code}</Code><Message>${escapeXml(fault.message)}</Message></Error>`
  sendXml(response, fault.status, `<ErrorResponse xmlns="${XMLNS}">${error}<RequestId>${randomUUID()}</RequestId></ErrorResponse>`)
}
