import { mkdirSync } from 'node:fs'
import { createServer, request as httpRequest, type IncomingMessage, type ServerResponse } from 'node:http'
import type { AddressInfo } from 'node:net'
import { join } from 'node:path'
import { LabError } from '../errors/lab-error.js'
import { startDynamodbEmulator } from './dynamodb-emulator.js'
import { closeServer, type RunningEmulator } from './emulator-server.js'
import { startLambdaEmulator, type LambdaExecution } from './lambda-emulator.js'
import { healthDocument, infoDocument, initDocument, instanceFacts, type InstanceFacts, type ServiceState } from './localstack-internal-endpoints.js'
import { DOUBLE_SERVICES, serviceOfRequest, type DoubleService } from './localstack-edge-routing.js'
import { startS3Emulator } from './s3-emulator.js'
import { startSnsEmulator } from './sns-emulator.js'
import { SqsQueues } from './sqs-queues.js'
import { startSqsEmulator } from './sqs-emulator.js'

export type LocalstackDoubleOptions = {
  /** S3 objects and Lambda code live under `<stateDir>/localstack`. */
  stateDir: string
  ip: string
  /** 0 picks a free port. */
  port: number
  /** The container's environment as a Deployment would set it: SERVICES, LOCALSTACK_HOST, SQS_ENDPOINT_STRATEGY, LOCALSTACK_AUTH_TOKEN, PERSISTENCE. */
  env?: Readonly<Record<string, string | undefined>>
  /** What health and info report; the image tag's version. Default 4.14.0. */
  version?: string
  /** `unavailable` plays a LocalStack without a Docker engine: functions go Failed with LocalStack's reason. */
  lambdaExecution?: LambdaExecution
}

export type LocalstackDouble = {
  /** `http://ip:port`, the gateway as LocalStack's port 4566 serves it. */
  readonly url: string
  /** Stops one emulator: health reports it `error` and its requests fail, the other services go on. */
  stopService(name: DoubleService): Promise<void>
  stop(): Promise<void>
}

type Backends = Map<string, { state: ServiceState; emulator: RunningEmulator | undefined }>

/** LocalStack 4.14 on one port, as far as health, info and the smoke test's calls of five services go. */
export async function startLocalstackDouble(options: LocalstackDoubleOptions): Promise<LocalstackDouble> {
  const env = options.env ?? {}
  const facts = instanceFacts({ version: options.version ?? '4.14.0', authToken: env['LOCALSTACK_AUTH_TOKEN'], persistence: env['PERSISTENCE'] === '1' })
  const wanted = (env['SERVICES'] ?? DOUBLE_SERVICES.join(',')).split(',').map((s) => s.trim()).filter(Boolean)
  const backends = await startBackends(options, wanted, env)
  const edge = createServer((request, response) => void answerEdge({ facts, backends, ip: options.ip }, request, response))
  await new Promise<void>((resolve, reject) => {
    edge.once('error', (error) => reject(new LabError(`LocalStack double: cannot listen on ${options.ip}:${options.port}`, { cause: error })))
    edge.listen(options.port, options.ip, () => resolve())
  })
  const port = (edge.address() as AddressInfo).port
  return {
    url: `http://${options.ip}:${port}`,
    stopService: async (name) => stopBackend(backends, name, 'error'),
    stop: async () => {
      await closeServer(edge)
      for (const name of backends.keys()) await stopBackend(backends, name, 'stopped')
    },
  }
}

async function startBackends(options: LocalstackDoubleOptions, wanted: string[], env: Readonly<Record<string, string | undefined>>): Promise<Backends> {
  const root = join(options.stateDir, 'localstack')
  mkdirSync(join(root, 's3'), { recursive: true })
  mkdirSync(join(root, 'lambda'), { recursive: true })
  const localstackHost = env['LOCALSTACK_HOST'] || 'localhost.localstack.cloud:4566'
  const queues = new SqsQueues({ localstackHost, strategy: env['SQS_ENDPOINT_STRATEGY'] || 'standard' })
  const starters: Record<DoubleService, () => Promise<RunningEmulator>> = {
    s3: () => startS3Emulator(options.ip, { directory: join(root, 's3'), publicHost: localstackHost.replace(/:\d+$/, '') }),
    sqs: () => startSqsEmulator(options.ip, queues),
    sns: () => startSnsEmulator(options.ip, queues),
    dynamodb: () => startDynamodbEmulator(options.ip),
    lambda: () => startLambdaEmulator(options.ip, { codeDir: join(root, 'lambda'), execution: options.lambdaExecution ?? 'in-process' }),
  }
  const backends: Backends = new Map()
  for (const name of wanted) {
    const start = starters[name as DoubleService]
    // Lazy loading, as LocalStack does by default: `available` until the first request makes it `running`.
    backends.set(name, { state: 'available', emulator: start ? await start() : undefined })
  }
  return backends
}

async function stopBackend(backends: Backends, name: string, state: ServiceState) {
  const backend = backends.get(name)
  if (!backend) throw new LabError(`LocalStack double: ${name} is not one of its services (${[...backends.keys()].join(', ')})`)
  const emulator = backend.emulator
  backend.emulator = undefined
  backend.state = state
  await emulator?.close()
}

type Edge = { facts: InstanceFacts; backends: Backends; ip: string }

async function answerEdge(edge: Edge, request: IncomingMessage, response: ServerResponse) {
  const url = new URL(request.url ?? '/', 'http://edge')
  response.setHeader('x-localstack', edge.facts.version)
  if (url.pathname.startsWith('/_localstack/')) return answerInternal(edge, request, url, response)
  const service = serviceOfRequest(request.headers, url)
  const backend = edge.backends.get(service)
  if (!backend) {
    const error = `Service '${service}' is not enabled. Please check your 'SERVICES' configuration variable.`
    return sendEdgeJson(response, 501, { error, message: error })
  }
  if (!backend.emulator) {
    const message = backend.state === 'available' ? `the lab does not emulate ${service}` : `the lab stopped the ${service} emulator`
    return sendEdgeJson(response, backend.state === 'available' ? 501 : 503, { __type: 'ServiceUnavailable', message })
  }
  backend.state = 'running'
  forward(request, response, edge.ip, backend.emulator.port)
}

function answerInternal(edge: Edge, request: IncomingMessage, url: URL, response: ServerResponse) {
  const states = new Map([...edge.backends].map(([name, b]) => [name, b.state]))
  if (url.pathname === '/_localstack/health' && request.method === 'HEAD') return void response.writeHead(200).end()
  // POST {"action":"restart"|"kill"} would restart or stop LocalStack; nothing the lab or the verifier needs.
  if (url.pathname === '/_localstack/health' && request.method === 'GET') return sendEdgeJson(response, 200, healthDocument(edge.facts, states))
  if (url.pathname === '/_localstack/info') return sendEdgeJson(response, 200, infoDocument(edge.facts))
  if (url.pathname === '/_localstack/init') return sendEdgeJson(response, 200, initDocument())
  if (url.pathname === '/_localstack/init/ready') return sendEdgeJson(response, 200, { completed: true, scripts: [] })
  sendEdgeJson(response, 404, { error: `${request.method} ${url.pathname} is not an endpoint of the lab's LocalStack double` })
}

/** Passes the request through untouched, Host included: the SigV4 signature and s3rver's virtual hosts depend on it. */
function forward(request: IncomingMessage, response: ServerResponse, ip: string, port: number) {
  const upstream = httpRequest({ host: ip, port, method: request.method, path: request.url, headers: request.headers }, (answer) => {
    response.writeHead(answer.statusCode ?? 502, answer.headers)
    answer.pipe(response)
  })
  upstream.on('error', (error) => {
    if (!response.headersSent) sendEdgeJson(response, 502, { __type: 'InternalFailure', message: `emulator unreachable: ${error.message}` })
    else response.destroy(error)
  })
  request.pipe(upstream)
}

function sendEdgeJson(response: ServerResponse, status: number, body: unknown) {
  const text = JSON.stringify(body)
  response.writeHead(status, { 'content-type': 'application/json', 'content-length': Buffer.byteLength(text) })
  response.end(text)
}
