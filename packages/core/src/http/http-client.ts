import { setTimeout as sleep } from 'node:timers/promises'
import type { Dispatcher } from 'undici'
import { HttpError } from '../errors/http-error.js'
import { createTargetDispatcher, type TlsTargetOptions } from './http-dispatcher.js'
import { backoffDelayMs, DEFAULT_RETRIES, isIdempotent, isRetryableStatus, retryAfterMs, type RetryPolicy } from './http-retry-policy.js'
import { bodyExcerpt, describeConnectionFailure, displayUrl, errorCode, statusText } from './http-failure-text.js'

export type HttpClientOptions = Omit<TlsTargetOptions, 'timeoutMs'> & {
  /** `https://registry.homelab.local`, or with a path prefix (`http://pi.hole/admin`). */
  baseUrl: string
  /** One attempt, headers and body together. */
  timeoutMs?: number
  retries?: RetryPolicy
  /** Use this instead of building one (tests, a shared pool); then TLS options are ignored and close() leaves it be. */
  dispatcher?: Dispatcher
  /** Sent with every request (User-Agent, say). */
  headers?: Readonly<Record<string, string>>
}

export type HttpRequestOptions = {
  query?: Readonly<Record<string, string | number | boolean | undefined>>
  headers?: Readonly<Record<string, string>>
  /** Serialised, with `content-type: application/json`. */
  json?: unknown
  body?: string | Uint8Array
  /** Statuses that are answers, not failures. Default: any 2xx. */
  expect?: readonly number[]
  /** Retry a non-idempotent method anyway: only when repeating it cannot do something twice. */
  retry?: boolean
  timeoutMs?: number
}

export type HttpResponse = {
  status: number
  headers: Readonly<Record<string, string | string[] | undefined>>
  text(): string
  /** The body as received: registry blobs and gzip layers are bytes, not UTF-8 text. */
  bytes(): Buffer
  /** Parsed once; a body that is not JSON is an HttpError naming the request. */
  json<T = unknown>(): T
}

export type HttpClient = {
  readonly baseUrl: string
  request(method: string, path: string, options?: HttpRequestOptions): Promise<HttpResponse>
  /** Destroys the dispatcher this client built (never a passed-in one). */
  close(): Promise<void>
}

/** What one attempt produced: an answer with its whole body, or no answer at all. */
type Attempt =
  | { kind: 'response'; status: number; headers: HttpResponse['headers']; body: Buffer }
  | { kind: 'error'; error: unknown; timedOut: boolean }

const DEFAULT_TIMEOUT_MS = 30_000
const USER_AGENT = 'homelab-devtools'

export function createHttpClient(options: HttpClientOptions): HttpClient {
  const timeoutMs = options.timeoutMs ?? DEFAULT_TIMEOUT_MS
  const owned = options.dispatcher === undefined ? createTargetDispatcher({ ...options, timeoutMs }) : undefined
  const dispatcher = options.dispatcher ?? (owned as Dispatcher)
  const target = { dispatcher, baseUrl: new URL(options.baseUrl), retries: options.retries ?? DEFAULT_RETRIES, timeoutMs, headers: options.headers ?? {} }
  return {
    baseUrl: options.baseUrl,
    request: (method, path, requestOptions = {}) => requestWithRetries(target, method.toUpperCase(), path, requestOptions),
    close: async () => {
      await owned?.destroy()
    },
  }
}

type Target = { dispatcher: Dispatcher; baseUrl: URL; retries: RetryPolicy; timeoutMs: number; headers: Readonly<Record<string, string>> }

export function requestUrl(baseUrl: URL, path: string, query: HttpRequestOptions['query'] = {}): URL {
  const url = new URL(baseUrl.href)
  url.pathname = `${url.pathname.replace(/\/$/, '')}/${path.replace(/^\//, '')}`
  for (const [key, value] of Object.entries(query)) if (value !== undefined) url.searchParams.set(key, String(value))
  return url
}

async function requestWithRetries(target: Target, method: string, path: string, options: HttpRequestOptions): Promise<HttpResponse> {
  const url = requestUrl(target.baseUrl, path, options.query)
  const attempts = (options.retry ?? isIdempotent(method)) ? Math.max(1, target.retries.attempts) : 1
  const timeoutMs = options.timeoutMs ?? target.timeoutMs
  for (let attempt = 1; ; attempt++) {
    const outcome = await attemptOnce(target, method, url, options, timeoutMs)
    if (outcome.kind === 'response' && isExpected(outcome.status, options.expect)) return toResponse(outcome, method, url)
    const delay = attempt < attempts ? retryDelayMs(outcome, attempt, target.retries) : undefined
    if (delay === undefined) throw failure({ method, url, outcome, attempt, timeoutMs, policy: target.retries })
    await sleep(delay)
  }
}

const isExpected = (status: number, expect: readonly number[] | undefined) => (expect ? expect.includes(status) : status >= 200 && status < 300)

async function attemptOnce(target: Target, method: string, url: URL, options: HttpRequestOptions, timeoutMs: number): Promise<Attempt> {
  // One deadline over headers and body: undici's own timeouts only bound the gaps between bytes.
  const deadline = new AbortController()
  const timer = setTimeout(() => deadline.abort(), timeoutMs)
  try {
    const response = await target.dispatcher.request({
      origin: url.origin,
      path: `${url.pathname}${url.search}`,
      method: method as Dispatcher.HttpMethod,
      headers: requestHeaders(target, options),
      body: options.json === undefined ? options.body : JSON.stringify(options.json),
      signal: deadline.signal,
    })
    const body = Buffer.from(await response.body.arrayBuffer())
    return { kind: 'response', status: response.statusCode, headers: response.headers, body }
  } catch (error) {
    const code = errorCode(error)
    const timedOut = deadline.signal.aborted || code === 'UND_ERR_HEADERS_TIMEOUT' || code === 'UND_ERR_BODY_TIMEOUT'
    return { kind: 'error', error, timedOut }
  } finally {
    clearTimeout(timer)
  }
}

function requestHeaders(target: Target, options: HttpRequestOptions): Record<string, string> {
  const json: Record<string, string> = options.json === undefined ? {} : { 'content-type': 'application/json' }
  return { 'user-agent': USER_AGENT, ...target.headers, ...json, ...options.headers }
}

/** How long to wait before the next attempt, or undefined when another attempt cannot help. */
function retryDelayMs(outcome: Attempt, attempt: number, policy: RetryPolicy): number | undefined {
  if (outcome.kind === 'error') return describeConnectionFailure(outcome.error).tls && !outcome.timedOut ? undefined : backoffDelayMs(policy, attempt)
  if (!isRetryableStatus(outcome.status)) return undefined
  const asked = outcome.status === 429 ? retryAfterMs(outcome.headers['retry-after']) : undefined
  if (asked === undefined) return backoffDelayMs(policy, attempt)
  // A short Retry-After is honoured exactly; a long one means "not now", better reported than slept through.
  return asked <= retryAfterLimitMs(policy) ? asked : undefined
}

const retryAfterLimitMs = (policy: RetryPolicy) => Math.max(policy.maxDelayMs, 10_000)

function toResponse(outcome: Extract<Attempt, { kind: 'response' }>, method: string, url: URL): HttpResponse {
  const text = outcome.body.toString('utf8')
  return {
    status: outcome.status,
    headers: outcome.headers,
    text: () => text,
    bytes: () => Buffer.from(outcome.body),
    json: <T>() => parseJsonBody<T>(text, { method, url, status: outcome.status }),
  }
}

function parseJsonBody<T>(text: string, request: { method: string; url: URL; status: number }): T {
  try {
    return JSON.parse(text) as T
  } catch (error) {
    const shown = displayUrl(request.url)
    const message = `Request failed: ${request.method} ${shown} → ${statusText(request.status)} with a body that is not JSON: ${bodyExcerpt(text)}`
    throw new HttpError(message, { method: request.method, url: shown, status: request.status, host: request.url.host, body: bodyExcerpt(text), cause: error })
  }
}

type FailureInput = { method: string; url: URL; outcome: Attempt; attempt: number; timeoutMs: number; policy: RetryPolicy }

/** `Request failed: GET https://host/path → 503 Service Unavailable (after 3 attempts)`; no body, header or query value. */
function failure({ method, url, outcome, attempt, timeoutMs, policy }: FailureInput): HttpError {
  const shown = displayUrl(url)
  const tries = attempt > 1 ? ` (after ${attempt} attempts)` : ''
  const context = { method, url: shown, host: url.host }
  if (outcome.kind === 'error') {
    const what = outcome.timedOut ? `timed out after ${timeoutMs} ms` : describeConnectionFailure(outcome.error).text
    return new HttpError(`Request failed: ${method} ${shown} → ${what}${tries}`, { ...context, cause: outcome.error })
  }
  const excerpt = bodyExcerpt(outcome.body.toString('utf8'))
  const asked = outcome.status === 429 ? retryAfterMs(outcome.headers['retry-after']) : undefined
  const tooLong = asked !== undefined && asked > retryAfterLimitMs(policy) ? ` (Retry-After ${Math.ceil(asked / 1000)} s is too long to wait)` : ''
  const message = `Request failed: ${method} ${shown} → ${statusText(outcome.status)}${tries}${tooLong}${excerpt ? `: ${excerpt}` : ''}`
  return new HttpError(message, { ...context, status: outcome.status, body: excerpt })
}
