import { CreateTopicCommand, DeleteTopicCommand, PublishCommand, SubscribeCommand, UnsubscribeCommand } from '@aws-sdk/client-sns'
import { CreateQueueCommand, DeleteMessageCommand, DeleteQueueCommand, GetQueueAttributesCommand } from '@aws-sdk/client-sqs'
import { awsCall, expectThat, withResources, type SmokeRun } from './smoke-run.js'
import { receiveMatching } from './smoke-sqs.js'

/** The SNS envelope's Message; with raw delivery the body is the message itself (never JSON in this check). */
function deliveredMessage(body: string | undefined): string | undefined {
  if (body === undefined || !body.trimStart().startsWith('{')) return body
  return (JSON.parse(body) as { Message?: string }).Message
}

/** Topic → SQS subscription → publish → the message arrives in the queue → unsubscribe and delete both. */
export function smokeSns(run: SmokeRun): Promise<void> {
  const { sns, sqs } = run.aws
  const name = `${run.prefix}-topic`
  const call = <T>(operation: string, fn: () => Promise<T>) => awsCall(run, 'SNS', operation, fn)
  return withResources(run, async (resources) => {
    const { QueueUrl } = await call('CreateQueue (subscriber)', () => sqs.send(new CreateQueueCommand({ QueueName: `${name}-subscriber` })))
    expectThat(QueueUrl !== undefined, 'SNS', 'CreateQueue (subscriber)', 'no QueueUrl in the answer')
    resources.created(`queue ${name}-subscriber`, () => sqs.send(new DeleteQueueCommand({ QueueUrl })))
    const attributes = await call('GetQueueAttributes (subscriber)', () => sqs.send(new GetQueueAttributesCommand({ QueueUrl, AttributeNames: ['QueueArn'] })))
    const queueArn = attributes.Attributes?.['QueueArn']
    expectThat(queueArn !== undefined, 'SNS', 'GetQueueAttributes (subscriber)', 'no QueueArn in the answer')
    const { TopicArn } = await call('CreateTopic', () => sns.send(new CreateTopicCommand({ Name: name })))
    expectThat(TopicArn !== undefined, 'SNS', 'CreateTopic', 'no TopicArn in the answer')
    resources.created(`topic ${name}`, () => sns.send(new DeleteTopicCommand({ TopicArn })))
    const { SubscriptionArn } = await call('Subscribe', () => sns.send(new SubscribeCommand({ TopicArn, Protocol: 'sqs', Endpoint: queueArn, ReturnSubscriptionArn: true })))
    const Message = `${run.prefix} sns smoke`
    await call('Publish', () => run.aws.once.sns.send(new PublishCommand({ TopicArn, Message })))
    const arrived = await receiveMatching(run, 'SNS', QueueUrl, (m) => deliveredMessage(m.Body) === Message, 15)
    expectThat(arrived?.ReceiptHandle !== undefined, 'SNS', 'Publish', 'the published message did not arrive in the subscribed queue within 15 s')
    await call('DeleteMessage (subscriber)', () => sqs.send(new DeleteMessageCommand({ QueueUrl, ReceiptHandle: arrived.ReceiptHandle })))
    if (SubscriptionArn) await call('Unsubscribe', () => sns.send(new UnsubscribeCommand({ SubscriptionArn })))
    await call('DeleteTopic', () => sns.send(new DeleteTopicCommand({ TopicArn })))
    resources.deleted(`topic ${name}`)
    await call('DeleteQueue (subscriber)', () => sqs.send(new DeleteQueueCommand({ QueueUrl })))
    resources.deleted(`queue ${name}-subscriber`)
  })
}
