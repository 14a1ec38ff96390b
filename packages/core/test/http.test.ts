import { execFileSync } from 'node:child_process'
import { mkdtempSync, readFileSync, rmSync, writeFileSync } from 'node:fs'
import { createServer as createHttpServer, type IncomingMessage, type Server, type ServerResponse } from 'node:http'
import { createServer as createHttpsServer } from 'node:https'
import type { AddressInfo } from 'node:net'
import { tmpdir } from 'node:os'
import { join } from 'node:path'
import type { TLSSocket } from 'node:tls'
import { reportHookErrors } from '@homelab/lab'
import { suite } from 'uvu'
import * as assert from 'uvu/assert'
import { bodyExcerpt, createHttpClient, HttpError, parseConfig, retryPolicyFromConfig, Secret, type HttpClient } from '../src/index.js'

const HOST = 'registry.homelab.local'
const QUERY_SECRET = 'query-secret-4d2f9a'
const BODY_SECRET = 'body-secret-8e1c7b'

type Pki = { ca: string; otherCa: string; cert: string; key: string }
type Ctx = { dir: string; pki: Pki; https: Server; http: Server; httpsPort: number; httpPort: number; hits: Map<string, number> }
const Http = suite<Ctx>('http client', {} as Ctx)

/** A CA and a leaf for registry.homelab.local, plus an unrelated CA, made with openssl the way cert-manager would. */
function makePki(dir: string): Pki {
  const run = (...args: string[]) => execFileSync('openssl', args, { cwd: dir, stdio: 'pipe' })
  const ec = ['-newkey', 'ec', '-pkeyopt', 'ec_paramgen_curve:prime256v1', '-nodes']
  run('req', '-x509', ...ec, '-keyout', 'ca.key', '-out', 'ca.crt', '-days', '2', '-subj', '/CN=test lab CA')
  run('req', '-x509', ...ec, '-keyout', 'other.key', '-out', 'other.crt', '-days', '2', '-subj', '/CN=some other CA')
  run('req', ...ec, '-keyout', 'leaf.key', '-out', 'leaf.csr', '-subj', `/CN=${HOST}`)
  writeFileSync(join(dir, 'leaf.ext'), `subjectAltName=DNS:${HOST}\n`)
  run('x509', '-req', '-in', 'leaf.csr', '-CA', 'ca.crt', '-CAkey', 'ca.key', '-CAcreateserial', '-out', 'leaf.crt', '-days', '2', '-extfile', 'leaf.ext')
  const read = (name: string) => readFileSync(join(dir, name), 'utf8')
  return { ca: read('ca.crt'), otherCa: read('other.crt'), cert: read('leaf.crt'), key: read('leaf.key') }
}

/** Routes that misbehave on purpose; `hits` counts requests per path so retries can be seen. */
function routes(hits: Map<string, number>) {
  return (req: IncomingMessage, res: ServerResponse) => {
    const path = new URL(req.url ?? '/', 'http://x').pathname
    const count = (hits.get(path) ?? 0) + 1
    hits.set(path, count)
    const send = (status: number, body: string, headers: Record<string, string> = {}) => res.writeHead(status, headers).end(body)
    if (path === '/echo') return send(200, JSON.stringify({ host: req.headers.host, servername: (req.socket as TLSSocket).servername ?? null }))
    if (path === '/flaky') return count <= 2 ? send(503, 'try later') : send(200, '{"ok":true}')
    if (path === '/down') return send(503, `upstream down, saw ${BODY_SECRET}`)
    if (path === '/rate') return count === 1 ? send(429, 'slow down', { 'retry-after': '1' }) : send(200, 'ok')
    if (path === '/rate-long') return send(429, 'slow down', { 'retry-after': '3600' })
    if (path === '/create') return count === 1 ? send(503, 'busy') : send(201, 'created')
    if (path === '/missing') return send(404, '{"took":0.1}')
    if (path === '/slow') return void setTimeout(() => send(200, 'late'), 2000)
    if (path === '/not-json') return send(200, '<html>')
    return send(200, '{"ok":true}')
  }
}

const listen = (server: Server) => new Promise<number>((resolve) => server.listen(0, '127.0.0.1', () => resolve((server.address() as AddressInfo).port)))
const fast = { attempts: 3, baseDelayMs: 10, maxDelayMs: 50 }

Http.before(reportHookErrors(async (ctx) => {
  ctx.dir = mkdtempSync(join(tmpdir(), 'homelab-http-'))
  ctx.pki = makePki(ctx.dir)
  ctx.hits = new Map()
  ctx.https = createHttpsServer({ cert: ctx.pki.cert, key: ctx.pki.key }, routes(ctx.hits))
  ctx.http = createHttpServer(routes(ctx.hits))
  ctx.httpsPort = await listen(ctx.https)
  ctx.httpPort = await listen(ctx.http)
}))

Http.after((ctx) => {
  ctx.https?.closeAllConnections()
  ctx.http?.closeAllConnections()
  ctx.https?.close()
  ctx.http?.close()
  rmSync(ctx.dir, { recursive: true, force: true })
})

Http.before.each((ctx) => ctx.hits.clear())

async function failureOf(run: () => Promise<unknown>): Promise<HttpError> {
  try {
    await run()
  } catch (error) {
    assert.instance(error, HttpError)
    return error as HttpError
  }
  return assert.unreachable('expected an HttpError') as never
}

async function withClient<T>(client: HttpClient, use: (client: HttpClient) => Promise<T>): Promise<T> {
  try {
    return await use(client)
  } finally {
    await client.close()
  }
}

const labClient = (ctx: Ctx, extra: Partial<Parameters<typeof createHttpClient>[0]> = {}) =>
  createHttpClient({ baseUrl: `https://${HOST}:${ctx.httpsPort}`, ca: ctx.pki.ca, resolve: { [HOST]: '127.0.0.1' }, retries: fast, timeoutMs: 2000, ...extra })

const plainClient = (ctx: Ctx, extra: Partial<Parameters<typeof createHttpClient>[0]> = {}) =>
  createHttpClient({ baseUrl: `http://127.0.0.1:${ctx.httpPort}`, retries: fast, timeoutMs: 2000, ...extra })

Http('trusts a custom CA and connects to 127.0.0.1 for registry.homelab.local, keeping Host and SNI', async (ctx) => {
  const body = await withClient(labClient(ctx), async (client) => (await client.request('GET', '/echo')).json<{ host: string; servername: string }>())
  assert.equal(body, { host: `${HOST}:${ctx.httpsPort}`, servername: HOST })
})

Http('refuses a server whose certificate the given CA did not sign, saying how to fix trust', async (ctx) => {
  const error = await failureOf(() => withClient(labClient(ctx, { ca: ctx.pki.otherCa }), (client) => client.request('GET', '/echo')))
  assert.match(error.message, /Request failed: GET https:\/\/registry\.homelab\.local:\d+\/echo → TLS verification failed/)
  assert.match(error.message, /ca\/caFile/)
  assert.is(ctx.hits.get('/echo'), undefined, 'no request reached the server')
})

Http('a TLS failure is not retried', async (ctx) => {
  const error = await failureOf(() => withClient(labClient(ctx, { ca: ctx.pki.otherCa }), (client) => client.request('GET', '/echo')))
  assert.not.match(error.message, /attempts/)
})

Http('insecureSkipTlsVerify accepts a certificate nothing vouches for', async (ctx) => {
  const status = await withClient(labClient(ctx, { ca: undefined, insecureSkipTlsVerify: true }), async (client) => (await client.request('GET', '/echo')).status)
  assert.is(status, 200)
})

Http('servername sets SNI when the URL names the server by IP', async (ctx) => {
  const client = createHttpClient({ baseUrl: `https://127.0.0.1:${ctx.httpsPort}`, ca: ctx.pki.ca, servername: HOST, retries: fast })
  const body = await withClient(client, async (c) => (await c.request('GET', '/echo')).json<{ servername: string }>())
  assert.is(body.servername, HOST)
})

Http('retries a GET on 503 and succeeds on the third attempt', async (ctx) => {
  const response = await withClient(plainClient(ctx), (client) => client.request('GET', '/flaky'))
  assert.equal([response.status, response.json()], [200, { ok: true }])
  assert.is(ctx.hits.get('/flaky'), 3)
})

Http('gives up after the configured attempts with status, URL and count in the message', async (ctx) => {
  const error = await failureOf(() => withClient(plainClient(ctx), (client) => client.request('GET', '/down')))
  assert.match(error.message, new RegExp(`^Request failed: GET http://127\\.0\\.0\\.1:${ctx.httpPort}/down → 503 Service Unavailable \\(after 3 attempts\\)`))
  assert.equal([error.status, error.method], [503, 'GET'])
  assert.is(ctx.hits.get('/down'), 3)
})

Http('does not retry a POST unless told, and does when told', async (ctx) => {
  const error = await failureOf(() => withClient(plainClient(ctx), (client) => client.request('POST', '/create', { json: { name: 'x' } })))
  assert.match(error.message, /POST .*\/create → 503 Service Unavailable: busy$/)
  assert.is(ctx.hits.get('/create'), 1)
  ctx.hits.clear()
  const response = await withClient(plainClient(ctx), (client) => client.request('POST', '/create', { json: { name: 'x' }, retry: true }))
  assert.is(response.status, 201)
  assert.is(ctx.hits.get('/create'), 2)
})

Http('429 waits for a short Retry-After before the next attempt', async (ctx) => {
  const started = Date.now()
  const response = await withClient(plainClient(ctx), (client) => client.request('GET', '/rate'))
  assert.is(response.status, 200)
  assert.ok(Date.now() - started >= 900, `waited ${Date.now() - started} ms, Retry-After said 1 s`)
  assert.is(ctx.hits.get('/rate'), 2)
})

Http('429 with a long Retry-After fails at once and says why', async (ctx) => {
  const error = await failureOf(() => withClient(plainClient(ctx), (client) => client.request('GET', '/rate-long')))
  assert.match(error.message, /→ 429 Too Many Requests \(Retry-After 3600 s is too long to wait\)/)
  assert.is(ctx.hits.get('/rate-long'), 1)
})

Http('an expected non-2xx status is an answer, not a failure', async (ctx) => {
  const response = await withClient(plainClient(ctx), (client) => client.request('DELETE', '/missing', { expect: [204, 404] }))
  assert.is(response.status, 404)
  assert.is(ctx.hits.get('/missing'), 1)
})

Http('connection refused after N attempts names the URL', async (ctx) => {
  const closed = createHttpServer()
  const port = await listen(closed)
  await new Promise((resolve) => closed.close(resolve))
  const client = createHttpClient({ baseUrl: `http://127.0.0.1:${port}`, retries: { attempts: 4, baseDelayMs: 5, maxDelayMs: 20 } })
  const error = await failureOf(() => withClient(client, (c) => c.request('GET', '/v2/')))
  assert.is(error.message, `Request failed: GET http://127.0.0.1:${port}/v2/ → connection refused (ECONNREFUSED) (after 4 attempts)`)
  assert.is(error.url, `http://127.0.0.1:${port}/v2/`)
  assert.ok(error.cause, 'the original error is kept as cause')
})

Http('a timeout names the timeout value', async (ctx) => {
  const client = plainClient(ctx, { timeoutMs: 200, retries: { attempts: 1, baseDelayMs: 5, maxDelayMs: 5 } })
  const started = Date.now()
  const error = await failureOf(() => withClient(client, (c) => c.request('GET', '/slow')))
  assert.match(error.message, /GET http:\/\/127\.0\.0\.1:\d+\/slow → timed out after 200 ms$/)
  assert.ok(Date.now() - started < 1500, 'gave up at the deadline, not when the server answered')
})

Http('query values, request bodies and known secrets stay out of the message', async (ctx) => {
  new Secret(BODY_SECRET)
  const client = plainClient(ctx, { headers: { authorization: 'Bearer header-secret-31' } })
  const error = await failureOf(() => withClient(client, (c) => c.request('PUT', '/down', { query: { token: QUERY_SECRET, restart: false }, json: { password: 'json-secret-77' } })))
  assert.match(error.message, /\/down\?token=\*\*\*\*&restart=\*\*\*\* → 503/)
  for (const secret of [QUERY_SECRET, BODY_SECRET, 'header-secret-31', 'json-secret-77']) assert.not.ok(error.message.includes(secret), secret)
  assert.match(error.message, /upstream down, saw \*\*\*\*/, 'the body excerpt is kept, scrubbed')
})

Http('json() on a body that is not JSON is an HttpError naming the request', async (ctx) => {
  const response = await withClient(plainClient(ctx), (client) => client.request('GET', '/not-json'))
  const error = await failureOf(async () => response.json())
  assert.match(error.message, /GET http:\/\/127\.0\.0\.1:\d+\/not-json → 200 OK with a body that is not JSON: <html>/)
})

Http('a body excerpt masks credentials the server echoes (session id, CSRF token, token, password) and stays short', () => {
  const cases: [string, string][] = [
    ['{"session": {"valid": true, "sid": "sid-value/1+=", "csrf": "csrf-value"}}', '{"session": {"valid": true, "sid": ****, "csrf": ****}}'],
    ['login?token=tok-value&next=/', 'login?token=****&next=/'],
    ["{'password': 'pw-value', 'a': 1}", "{'password': ****, 'a': 1}"],
    ['{"sid": "cut-off', '{"sid": ****'],
    ['upstream\n  down', 'upstream down'],
  ]
  for (const [body, shown] of cases) assert.is(bodyExcerpt(body), shown, body)
  assert.is(bodyExcerpt('x'.repeat(100), 80), `${'x'.repeat(80)}…`)
})

Http('a base URL path prefix is kept', async (ctx) => {
  const client = createHttpClient({ baseUrl: `http://127.0.0.1:${ctx.httpPort}/admin/`, retries: fast })
  await withClient(client, (c) => c.request('GET', '/api.php'))
  assert.is(ctx.hits.get('/admin/api.php'), 1)
})

Http('the config\'s retries become the client\'s policy in milliseconds', () => {
  const config = parseConfig('retries: {attempts: 5, baseDelay: 100ms, maxDelay: 2s}', { sourceName: 'homelab.yaml', baseDir: '/', env: {} })
  assert.equal(retryPolicyFromConfig(config.retries), { attempts: 5, baseDelayMs: 100, maxDelayMs: 2000 })
})

Http.run()
