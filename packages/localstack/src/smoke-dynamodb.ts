import { CreateTableCommand, DeleteTableCommand, GetItemCommand, PutItemCommand, QueryCommand, waitUntilTableExists } from '@aws-sdk/client-dynamodb'
import { awsCall, expectThat, withResources, type SmokeRun } from './smoke-run.js'

/** Table (on demand) → wait ACTIVE → put → get → query by partition key → delete the table. */
export function smokeDynamodb(run: SmokeRun): Promise<void> {
  const { dynamodb } = run.aws
  const TableName = `${run.prefix}-table`
  const call = <T>(operation: string, fn: () => Promise<T>) => awsCall(run, 'DynamoDB', operation, fn)
  const key = { pk: { S: 'smoke' }, sk: { S: run.prefix } }
  return withResources(run, async (resources) => {
    await call('CreateTable', () =>
      run.aws.once.dynamodb.send(
        new CreateTableCommand({
          TableName,
          BillingMode: 'PAY_PER_REQUEST',
          KeySchema: [{ AttributeName: 'pk', KeyType: 'HASH' }, { AttributeName: 'sk', KeyType: 'RANGE' }],
          AttributeDefinitions: [{ AttributeName: 'pk', AttributeType: 'S' }, { AttributeName: 'sk', AttributeType: 'S' }],
        }),
      ),
    )
    resources.created(`table ${TableName}`, () => dynamodb.send(new DeleteTableCommand({ TableName })))
    // The first DynamoDB call may be slow: LocalStack starts the service lazily.
    await call('waitUntilTableExists', () => waitUntilTableExists({ client: dynamodb, maxWaitTime: 60, minDelay: 1, maxDelay: 2 }, { TableName }))
    await call('PutItem', () => dynamodb.send(new PutItemCommand({ TableName, Item: { ...key, value: { S: 'dynamodb smoke' } } })))
    const got = await call('GetItem', () => dynamodb.send(new GetItemCommand({ TableName, Key: key, ConsistentRead: true })))
    expectThat(got.Item?.['value']?.S === 'dynamodb smoke', 'DynamoDB', 'GetItem', 'the item read back is not the one put')
    const queried = await call('Query', () =>
      dynamodb.send(new QueryCommand({ TableName, KeyConditionExpression: 'pk = :pk', ExpressionAttributeValues: { ':pk': { S: 'smoke' } }, ConsistentRead: true })),
    )
    expectThat(queried.Count === 1 && queried.Items?.[0]?.['sk']?.S === run.prefix, 'DynamoDB', 'Query', `expected the one item, got ${queried.Count ?? 0}`)
    await call('DeleteTable', () => dynamodb.send(new DeleteTableCommand({ TableName })))
    resources.deleted(`table ${TableName}`)
  })
}
