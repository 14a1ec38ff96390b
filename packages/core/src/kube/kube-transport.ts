import { Agent as HttpsAgent } from 'node:https'
import { ResponseContext, wrapHttpLibrary, type HttpLibrary, type RequestContext } from '@kubernetes/client-node'
import { Agent } from '../http/undici-agent.js'

/**
 * At most this many connections to the API server at once, per set of TLS material; a request beyond them waits for
 * one to be free. Each connection is a TLS handshake with a client certificate on both ends, and a no-op bootstrap's
 * bursts (preflight's checks at once, a component's steps four at a time, each a read and a dry-run apply) opened ten.
 * With four, the whole pipeline took 0.55 s instead of 0.8 s on the 2-core lab, with less CPU (measured alternately:
 * two, three and four alike; five, six, eight and no limit all as slow, our process waiting about 0.1 s longer on the
 * API server). kubectl goes further: one HTTP/2 connection for everything.
 */
export const KUBE_API_CONNECTIONS = 4

type ResponseHeaders = Record<string, string | string[] | undefined>

export const formatMs = (ms: number) => (ms % 1000 === 0 ? `${ms / 1000}s` : `${ms}ms`)

/** Thrown inside the client when one request outlives `timeouts.kubernetes`; toKubeError names the server and the key. */
export class KubeRequestTimeout extends Error {
  constructor(readonly timeoutMs: number) {
    super(`no answer within ${formatMs(timeoutMs)}`)
  }
}

// undici's own limits, which the backstop sets.
const UNDICI_TIMEOUTS = new Set(['UND_ERR_CONNECT_TIMEOUT', 'UND_ERR_HEADERS_TIMEOUT', 'UND_ERR_BODY_TIMEOUT'])

/**
 * client-node's transport (the object API's and every generated API's), on undici instead of node-fetch 2. node-fetch cannot share a few
 * kept-alive connections among more requests: a chunked response (the API server's answer for any object over a few
 * kB) fails with "Premature close" when its connection is handed to the next waiting request as it ends, because
 * node-fetch takes the next request's listener on the socket for its own unfinished body. undici queues requests on
 * its own connections, and costs half the CPU per request.
 *
 * client-node still authenticates each request (kubeconfig certificates, tokens, exec plugins) and picks its agent;
 * the agent's TLS material becomes one undici Agent's. A plain-http server gets client-node's own agent and node-fetch,
 * as before (and so does a cluster behind `proxy-url`: the caller does not use this transport there). A request that
 * hangs where nothing else times it (the generated APIs; the object API times its own at `timeoutMs`) ends a second
 * after `timeoutMs`, as a KubeRequestTimeout.
 */
export function undiciKubeTransport(fallback: HttpLibrary, options: { timeoutMs: number }): HttpLibrary {
  const backstopMs = options.timeoutMs + 1000
  const timedOut = (error: unknown) => (UNDICI_TIMEOUTS.has(String((error as { code?: unknown } | undefined)?.code)) ? new KubeRequestTimeout(backstopMs) : error)
  const orTimeout = <T>(pending: Promise<T>): Promise<T> => pending.catch((error: unknown) => Promise.reject(timedOut(error)))
  const dispatchers = new WeakMap<HttpsAgent, Agent>()
  const dispatcherFor = (agent: HttpsAgent): Agent => {
    let dispatcher = dispatchers.get(agent)
    if (!dispatcher) {
      const { ca, cert, key, pfx, passphrase, rejectUnauthorized, servername } = agent.options
      const connect = Object.fromEntries(Object.entries({ ca, cert, key, pfx, passphrase, rejectUnauthorized, servername }).filter(([, value]) => value !== undefined))
      dispatchers.set(agent, (dispatcher = new Agent({ connect: { ...connect, timeout: backstopMs }, connections: KUBE_API_CONNECTIONS, headersTimeout: backstopMs, bodyTimeout: backstopMs })))
    }
    return dispatcher
  }
  const viaUndici = wrapHttpLibrary({
    async send(request: RequestContext): Promise<ResponseContext> {
      const url = new URL(request.getUrl())
      const signal = request.getSignal()
      const body = request.getBody()
      const response = await orTimeout(
        dispatcherFor(request.getAgent() as HttpsAgent).request({
          origin: url.origin,
          path: `${url.pathname}${url.search}`,
          method: request.getHttpMethod().toString() as 'GET',
          // node-fetch named itself; undici does not: the API server's audit log then shows who called.
          headers: { 'user-agent': 'homelab-devtools', ...request.getHeaders() },
          ...(body === undefined || body === null ? {} : { body: body as string | Buffer }),
          ...(signal ? { signal } : {}),
        }),
      )
      return new ResponseContext(response.statusCode, joinedHeaders(response.headers as ResponseHeaders), {
        text: () => orTimeout(response.body.text()),
        binary: async () => Buffer.from(await orTimeout(response.body.arrayBuffer())),
      })
    },
  })
  return {
    send: (request) => (request.getAgent() instanceof HttpsAgent ? viaUndici : fallback).send(request),
  }
}

/** client-node reads one string per header name, as fetch's Headers gives it (repeated headers joined). */
function joinedHeaders(headers: ResponseHeaders): Record<string, string> {
  const out: Record<string, string> = {}
  for (const [name, value] of Object.entries(headers)) if (value !== undefined) out[name] = Array.isArray(value) ? value.join(', ') : value
  return out
}
