import { STATUS_CODES } from 'node:http'
import { MASK, redact } from '../secret.js'

/** The URL as messages show it: query values masked, since tokens travel there (Pi-hole v5's `auth=`). */
export function displayUrl(url: URL): string {
  const keys = [...url.searchParams.keys()]
  const query = keys.length === 0 ? '' : `?${keys.map((key) => `${key}=${MASK}`).join('&')}`
  return `${url.origin}${url.pathname}${query}`
}

export const statusText = (status: number) => `${status}${STATUS_CODES[status] ? ` ${STATUS_CODES[status]}` : ''}`

// A server may echo credentials it made or was sent (a session id, a CSRF token) that no Secret of ours knows about.
const CREDENTIAL_FIELD = /(["']?\b(?:sid|csrf\w*|password|passwd|token|api_?key|secret|auth)["']?\s*[:=]\s*)("[^"]*"?|'[^']*'?|[^\s,;&}\]]+)/gi

/** The start of a response body, one line, scrubbed: enough to see the server's own error, never a secret. */
export function bodyExcerpt(body: string, limit = 200): string {
  const line = body.replace(/\s+/g, ' ').trim().replace(CREDENTIAL_FIELD, `$1${MASK}`)
  return redact(line.length > limit ? `${line.slice(0, limit)}…` : line)
}

const CONNECTION_WORDS: Record<string, string> = {
  ECONNREFUSED: 'connection refused',
  ECONNRESET: 'connection reset',
  EPIPE: 'connection closed while sending',
  ENOTFOUND: 'host name not found',
  EAI_AGAIN: 'host name lookup failed (temporary)',
  EHOSTUNREACH: 'host unreachable',
  ENETUNREACH: 'network unreachable',
  ETIMEDOUT: 'connect timed out',
  UND_ERR_CONNECT_TIMEOUT: 'connect timed out',
  UND_ERR_SOCKET: 'connection closed by the server',
  UND_ERR_CLOSED: 'connection closed',
}

const TLS_CODES = new Set([
  'UNABLE_TO_VERIFY_LEAF_SIGNATURE',
  'UNABLE_TO_GET_ISSUER_CERT_LOCALLY',
  'SELF_SIGNED_CERT_IN_CHAIN',
  'DEPTH_ZERO_SELF_SIGNED_CERT',
  'CERT_HAS_EXPIRED',
  'CERT_NOT_YET_VALID',
  'ERR_TLS_CERT_ALTNAME_INVALID',
  'ERR_SSL_WRONG_VERSION_NUMBER',
])

/** The first `code` along an error's cause chain: undici and Node wrap the system error at varying depths. */
export function errorCode(error: unknown): string | undefined {
  for (let current = error, depth = 0; current instanceof Error && depth < 5; current = current.cause, depth++) {
    const code = (current as NodeJS.ErrnoException).code
    if (typeof code === 'string') return code
  }
  return undefined
}

export type ConnectionFailure = { text: string; tls: boolean }

/** Words for a request that got no response at all. TLS failures say how to fix trust, since retrying cannot. */
export function describeConnectionFailure(error: unknown): ConnectionFailure {
  const code = errorCode(error) ?? ''
  if (TLS_CODES.has(code) || code.startsWith('ERR_SSL') || code.startsWith('ERR_TLS')) {
    return { text: `TLS verification failed (${code}: ${(error as Error).message}); give the server's CA (ca/caFile) or, knowingly, insecureSkipTlsVerify`, tls: true }
  }
  const words = CONNECTION_WORDS[code]
  return { text: words ? `${words} (${code})` : `${(error as Error).message || 'request failed'}${code ? ` (${code})` : ''}`, tls: false }
}
