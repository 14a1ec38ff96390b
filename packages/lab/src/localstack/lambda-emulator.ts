import { randomUUID } from 'node:crypto'
import { existsSync, mkdirSync, rmSync, writeFileSync } from 'node:fs'
import type { ServerResponse } from 'node:http'
import { dirname, join, normalize } from 'node:path'
import * as lambdaLocal from 'lambda-local'
import { ACCOUNT_ID, startEmulatorServer, type RunningEmulator } from './emulator-server.js'
import { regionOf } from './localstack-edge-routing.js'
import { readZipEntries } from './zip-entries.js'

type LambdaFunction = { configuration: Record<string, unknown>; dir: string; handler: string }
export type LambdaExecution = 'in-process' | 'unavailable'
type LambdaState = { functions: Map<string, LambdaFunction>; codeDir: string; execution: LambdaExecution }

class LambdaFault extends Error {
  constructor(
    readonly status: number,
    readonly type: string,
    message: string,
  ) {
    super(message)
  }
}

const FUNCTIONS = /^\/2015-03-31\/functions\/?$/
const FUNCTION = /^\/2015-03-31\/functions\/([^/]+)(\/configuration|\/invocations)?\/?$/
// What LocalStack says when its Docker executor cannot start a container.
const NO_DOCKER = 'Docker not available in the LocalStack container but required to run Lambda functions'
// The time LocalStack takes to prepare a function before it is Active; long enough for a waiter to see Pending.
const PENDING_MS = 300

/** The Lambda REST API for create → get → invoke → delete; the handler runs in this process through lambda-local. */
export function startLambdaEmulator(ip: string, options: { codeDir: string; execution: LambdaExecution }): Promise<RunningEmulator> {
  const state: LambdaState = { functions: new Map(), codeDir: options.codeDir, execution: options.execution }
  return startEmulatorServer('lambda', ip, async (request, body, response) => {
    const url = new URL(request.url ?? '/', 'http://lambda')
    const region = regionOf(request.headers) ?? 'us-east-1'
    try {
      const answer = await routeLambda(state, { method: request.method ?? 'GET', path: url.pathname, body, region })
      sendLambda(response, answer.status, answer.body, answer.headers)
    } catch (error) {
      if (!(error instanceof LambdaFault)) throw error
      sendLambda(response, error.status, { Type: 'User', message: error.message }, { 'x-amzn-errortype': error.type })
    }
  })
}

type LambdaRequest = { method: string; path: string; body: Buffer; region: string }
type LambdaAnswer = { status: number; body: unknown; headers?: Record<string, string> }

async function routeLambda(state: LambdaState, request: LambdaRequest): Promise<LambdaAnswer> {
  if (FUNCTIONS.test(request.path) && request.method === 'POST') return { status: 201, body: createFunction(state, request) }
  const [, name = '', sub] = FUNCTION.exec(request.path) ?? []
  const fn = state.functions.get(decodeURIComponent(name))
  if (!fn) throw new LambdaFault(404, 'ResourceNotFoundException', `Function not found: arn:aws:lambda:${request.region}:${ACCOUNT_ID}:function:${name}`)
  if (request.method === 'GET' && sub === undefined) return { status: 200, body: { Configuration: fn.configuration, Code: { RepositoryType: 'S3' } } }
  if (request.method === 'GET' && sub === '/configuration') return { status: 200, body: fn.configuration }
  if (request.method === 'POST' && sub === '/invocations') return invoke(state, fn, request.body)
  if (request.method === 'DELETE' && sub === undefined) {
    state.functions.delete(fn.configuration['FunctionName'] as string)
    rmSync(fn.dir, { recursive: true, force: true })
    return { status: 204, body: undefined }
  }
  throw new LambdaFault(400, 'InvalidRequestContentException', `the lab's Lambda emulator does not implement ${request.method} ${request.path}`)
}

function createFunction(state: LambdaState, request: LambdaRequest): Record<string, unknown> {
  const input = JSON.parse(request.body.toString('utf8')) as Record<string, any>
  const name = String(input['FunctionName'] ?? '')
  if (state.functions.has(name)) throw new LambdaFault(409, 'ResourceConflictException', `Function already exist: ${name}`)
  const zip = input['Code']?.['ZipFile']
  if (typeof zip !== 'string') throw new LambdaFault(400, 'InvalidParameterValueException', 'the lab emulates Code.ZipFile only, not S3 code')
  // A directory per creation: Node caches an ES module by path, so a re-created function must get a new one.
  const dir = join(state.codeDir, `${name}-${randomUUID()}`)
  unpackZip(Buffer.from(zip, 'base64'), dir)
  const configuration: Record<string, unknown> = {
    FunctionName: name,
    FunctionArn: `arn:aws:lambda:${request.region}:${ACCOUNT_ID}:function:${name}`,
    Runtime: input['Runtime'],
    Role: input['Role'],
    Handler: input['Handler'],
    Timeout: input['Timeout'] ?? 3,
    MemorySize: input['MemorySize'] ?? 128,
    Environment: input['Environment'] ?? { Variables: {} },
    PackageType: 'Zip',
    State: 'Pending',
    StateReasonCode: 'Creating',
    LastUpdateStatus: 'InProgress',
  }
  const fn = { configuration, dir, handler: String(input['Handler'] ?? 'index.handler') }
  state.functions.set(name, fn)
  setTimeout(() => settle(fn, state.execution), PENDING_MS).unref()
  return configuration
}

function settle(fn: LambdaFunction, execution: LambdaExecution) {
  const failed = execution === 'unavailable'
  Object.assign(fn.configuration, {
    State: failed ? 'Failed' : 'Active',
    StateReasonCode: failed ? 'InternalError' : 'Idle',
    ...(failed ? { StateReason: NO_DOCKER } : {}),
    LastUpdateStatus: failed ? 'Failed' : 'Successful',
  })
}

function unpackZip(zip: Buffer, dir: string) {
  for (const [name, data] of readZipEntries(zip)) {
    const target = normalize(join(dir, name))
    if (!target.startsWith(dir + '/')) throw new LambdaFault(400, 'InvalidParameterValueException', `zip entry ${name} points outside the function`)
    mkdirSync(dirname(target), { recursive: true })
    writeFileSync(target, data)
  }
}

async function invoke(state: LambdaState, fn: LambdaFunction, payload: Buffer): Promise<LambdaAnswer> {
  const status = fn.configuration['State']
  if (status !== 'Active') {
    const message = `The operation cannot be performed at this time. The function is currently in the following state: ${String(status)}`
    throw new LambdaFault(409, 'ResourceConflictException', message)
  }
  const [moduleName = 'index', exportName = 'handler'] = fn.handler.split('.')
  const file = ['.mjs', '.js', '.cjs'].map((ext) => join(fn.dir, moduleName + ext)).find((f) => existsSync(f))
  if (!file) throw new LambdaFault(502, 'InvalidRuntimeException', `handler module ${moduleName} not found in the function's zip`)
  const event = payload.length > 0 ? JSON.parse(payload.toString('utf8')) : {}
  const headers = { 'x-amz-executed-version': '$LATEST' }
  try {
    const variables = (fn.configuration['Environment'] as { Variables?: Record<string, string> }).Variables ?? {}
    const result = await lambdaLocal.execute({ lambdaPath: file, lambdaHandler: exportName, event, esm: file.endsWith('.mjs'), verboseLevel: 0, timeoutMs: 10_000, environment: variables, envdestroy: true })
    return { status: 200, body: result ?? null, headers }
  } catch (error) {
    const err = error instanceof Error ? error : new Error(String(error))
    return { status: 200, body: { errorType: err.name, errorMessage: err.message }, headers: { ...headers, 'x-amz-function-error': 'Unhandled' } }
  }
}

function sendLambda(response: ServerResponse, status: number, body: unknown, headers: Record<string, string> = {}) {
  const text = body === undefined ? '' : JSON.stringify(body)
  response.writeHead(status, { 'content-type': 'application/json', 'content-length': Buffer.byteLength(text), 'x-amzn-requestid': randomUUID(), ...headers })
  response.end(text)
}
