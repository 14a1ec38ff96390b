import { createHash, randomUUID } from 'node:crypto'
import { ACCOUNT_ID } from './emulator-server.js'

export type SqsMessage = { id: string; body: string; md5: string; visibleAt: number; receiptHandle: string | undefined }
export type SqsQueue = { name: string; region: string; arn: string; url: string; messages: SqsMessage[] }

/** Where queue URLs point, as LocalStack builds them from `LOCALSTACK_HOST` and `SQS_ENDPOINT_STRATEGY`. */
export type QueueUrlStyle = { localstackHost: string; strategy: string }

export const md5Hex = (text: string) => createHash('md5').update(text, 'utf8').digest('hex')

/** LocalStack 4.x forms: `standard` puts the service and region in the host, `path` keeps the public host. */
export function queueUrl(style: QueueUrlStyle, region: string, name: string): string {
  if (style.strategy === 'path') return `http://${style.localstackHost}/queue/${region}/${ACCOUNT_ID}/${name}`
  if (style.strategy === 'domain') return `http://${region}.queue.${style.localstackHost}/${ACCOUNT_ID}/${name}`
  return `http://sqs.${region}.${style.localstackHost}/${ACCOUNT_ID}/${name}`
}

/**
 * The queues of the SQS emulator, shared with the SNS emulator so a publish lands in a subscribed queue the way
 * LocalStack delivers in-process. In memory: LocalStack community keeps no state across restarts either.
 */
export class SqsQueues {
  readonly #queues = new Map<string, SqsQueue>()

  constructor(readonly style: QueueUrlStyle) {}

  create(name: string, region: string): SqsQueue {
    const existing = this.#queues.get(name)
    if (existing) return existing
    const queue = { name, region, arn: `arn:aws:sqs:${region}:${ACCOUNT_ID}:${name}`, url: queueUrl(this.style, region, name), messages: [] }
    this.#queues.set(name, queue)
    return queue
  }

  byName(name: string): SqsQueue | undefined {
    return this.#queues.get(name)
  }

  /** Any URL form names the queue by its last path segment, so a URL of another strategy still finds it. */
  byUrl(url: string): SqsQueue | undefined {
    return this.#queues.get(url.replace(/\/+$/, '').split('/').pop() ?? '')
  }

  byArn(arn: string): SqsQueue | undefined {
    return [...this.#queues.values()].find((q) => q.arn === arn)
  }

  delete(name: string): boolean {
    return this.#queues.delete(name)
  }

  send(queue: SqsQueue, body: string): SqsMessage {
    const message = { id: randomUUID(), body, md5: md5Hex(body), visibleAt: 0, receiptHandle: undefined }
    queue.messages.push(message)
    return message
  }

  /** Hides what it hands out for `visibilityMs`, as SQS does, until it is deleted by its receipt handle. */
  receive(queue: SqsQueue, max: number, visibilityMs: number): SqsMessage[] {
    const now = Date.now()
    const ready = queue.messages.filter((m) => m.visibleAt <= now).slice(0, max)
    for (const message of ready) {
      message.visibleAt = now + visibilityMs
      message.receiptHandle = randomUUID()
    }
    return ready
  }

  deleteMessage(queue: SqsQueue, receiptHandle: string): boolean {
    const before = queue.messages.length
    queue.messages = queue.messages.filter((m) => m.receiptHandle !== receiptHandle)
    return queue.messages.length < before
  }
}
