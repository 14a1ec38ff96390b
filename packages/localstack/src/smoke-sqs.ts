import { CreateQueueCommand, DeleteMessageCommand, DeleteQueueCommand, ReceiveMessageCommand, SendMessageCommand, type Message } from '@aws-sdk/client-sqs'
import { awsCall, expectThat, withResources, type SmokeRun } from './smoke-run.js'

const ACCOUNT = '000000000000'

/** Receives until a message matches or `seconds` pass: SNS delivery and long polling both take a moment. */
export async function receiveMatching(run: SmokeRun, service: string, QueueUrl: string, matches: (m: Message) => boolean, seconds: number): Promise<Message | undefined> {
  const deadline = Date.now() + seconds * 1000
  while (Date.now() < deadline) {
    const answer = await awsCall(run, service, 'ReceiveMessage', () => run.aws.sqs.send(new ReceiveMessageCommand({ QueueUrl, WaitTimeSeconds: 1, MaxNumberOfMessages: 10 })))
    const found = answer.Messages?.find(matches)
    if (found) return found
  }
  return undefined
}

/** Queue (its URL on the public host) → send → receive the same body → delete the message → delete the queue. */
export function smokeSqs(run: SmokeRun): Promise<void> {
  const { sqs } = run.aws
  const QueueName = `${run.prefix}-queue`
  const call = <T>(operation: string, fn: () => Promise<T>) => awsCall(run, 'SQS', operation, fn)
  return withResources(run, async (resources) => {
    const { QueueUrl } = await call('CreateQueue', () => sqs.send(new CreateQueueCommand({ QueueName })))
    expectThat(QueueUrl !== undefined, 'SQS', 'CreateQueue', 'no QueueUrl in the answer')
    resources.created(`queue ${QueueName}`, () => sqs.send(new DeleteQueueCommand({ QueueUrl })))
    const url = new URL(QueueUrl)
    // LOCALSTACK_HOST makes LocalStack hand out URLs on the public host, which other consumers can reach.
    expectThat(url.hostname === run.publicHost && url.pathname.endsWith(`/${ACCOUNT}/${QueueName}`), 'SQS', 'CreateQueue', `queue URL ${QueueUrl} is not on ${run.publicHost}; check LOCALSTACK_HOST`)
    const MessageBody = `${run.prefix} sqs smoke`
    await call('SendMessage', () => run.aws.once.sqs.send(new SendMessageCommand({ QueueUrl, MessageBody })))
    const message = await receiveMatching(run, 'SQS', QueueUrl, (m) => m.Body === MessageBody, 10)
    expectThat(message?.ReceiptHandle !== undefined, 'SQS', 'ReceiveMessage', 'the message sent was not received within 10 s')
    await call('DeleteMessage', () => sqs.send(new DeleteMessageCommand({ QueueUrl, ReceiptHandle: message.ReceiptHandle })))
    await call('DeleteQueue', () => sqs.send(new DeleteQueueCommand({ QueueUrl })))
    resources.deleted(`queue ${QueueName}`)
  })
}
