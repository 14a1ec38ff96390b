import { CreateFunctionCommand, DeleteFunctionCommand, GetFunctionCommand, InvokeCommand, waitUntilFunctionActiveV2 } from '@aws-sdk/client-lambda'
import { SMOKE_FUNCTION_TIMEOUT_S } from './aws-clients.js'
import { SmokeCheckError } from './errors/smoke-check-error.js'
import { zipFiles } from './lambda-zip.js'
import { awsCall, expectThat, withResources, type SmokeRun } from './smoke-run.js'

// LocalStack checks the role ARN's form only; the role need not exist.
const ROLE = 'arn:aws:iam::000000000000:role/lambda-role'
const HANDLER_SOURCE = 'export const handler = async (event) => ({ probe: event.probe, runtime: process.version })\n'

/** Why a function did not become Active, from LocalStack's own StateReason ("Docker not available…"). */
async function notActiveReason(run: SmokeRun, FunctionName: string, waitError: unknown): Promise<SmokeCheckError> {
  const fn = await awsCall(run, 'Lambda', 'GetFunction', () => run.aws.lambda.send(new GetFunctionCommand({ FunctionName })))
  const { State, StateReason } = fn.Configuration ?? {}
  return new SmokeCheckError(`Lambda: the API answers, but the function is ${State ?? 'unknown'}, not Active: execution is unavailable (${StateReason ?? 'no reason given'})`, {
    service: 'Lambda',
    operation: 'waitUntilFunctionActiveV2',
    hint: 'LocalStack runs functions in Docker: check the dind sidecar (kubectl -n <namespace> logs deploy/localstack -c dind) or the node socket',
    cause: waitError,
  })
}

/** A Node handler zipped in memory → create → wait Active → invoke → the payload echoes → delete. */
export function smokeLambda(run: SmokeRun): Promise<void> {
  const { lambda } = run.aws
  const once = run.aws.once.lambda
  const FunctionName = `${run.prefix}-function`
  const call = <T>(operation: string, fn: () => Promise<T>) => awsCall(run, 'Lambda', operation, fn)
  return withResources(run, async (resources) => {
    const ZipFile = zipFiles({ 'index.mjs': HANDLER_SOURCE })
    await call('CreateFunction', () => once.send(new CreateFunctionCommand({ FunctionName, Runtime: 'nodejs20.x', Handler: 'index.handler', Role: ROLE, Code: { ZipFile }, Timeout: SMOKE_FUNCTION_TIMEOUT_S })))
    resources.created(`function ${FunctionName}`, () => lambda.send(new DeleteFunctionCommand({ FunctionName })))
    // The first function pulls the runtime image into the engine: that can take a minute or two.
    await waitUntilFunctionActiveV2({ client: lambda, maxWaitTime: 180, minDelay: 1, maxDelay: 5 }, { FunctionName }).catch(async (error: unknown) => {
      throw await notActiveReason(run, FunctionName, error)
    })
    const probe = `${run.prefix}-invoke`
    const answer = await call('Invoke', () => once.send(new InvokeCommand({ FunctionName, Payload: Buffer.from(JSON.stringify({ probe })) }), { requestTimeout: run.aws.invokeTimeoutMs }))
    const text = answer.Payload ? Buffer.from(answer.Payload).toString('utf8') : ''
    expectThat(answer.FunctionError === undefined, 'Lambda', 'Invoke', `the handler failed (${answer.FunctionError}): ${text}`)
    expectThat((JSON.parse(text || '{}') as { probe?: string }).probe === probe, 'Lambda', 'Invoke', `expected the payload to echo ${probe}, got ${text}`)
    await call('DeleteFunction', () => lambda.send(new DeleteFunctionCommand({ FunctionName })))
    resources.deleted(`function ${FunctionName}`)
  })
}
