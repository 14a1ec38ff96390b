import { bodyExcerpt, HttpError, statusText, type HttpClient, type HttpRequestOptions, type HttpResponse } from '@homelab/core'
import { PiholeError } from './errors/pihole-error.js'

/** Who a Pi-hole client talks to, for every message it makes. */
export type PiholeTarget = { url: string; configKey: string; http: HttpClient }

/**
 * One request to a Pi-hole. A failure without a usable answer (refused, timed out, TLS, an unexpected status) becomes a
 * PiholeError naming the Pi-hole, method and path; `shownPath` leaves out anything that must not be shown (v5 token).
 */
export async function piholeRequest(target: PiholeTarget, method: string, path: string, options: HttpRequestOptions & { shownPath?: string } = {}): Promise<HttpResponse> {
  const { shownPath = path, ...rest } = options
  try {
    return await target.http.request(method, path, rest)
  } catch (error) {
    if (!(error instanceof HttpError)) throw error
    // Core's message is `Request failed: METHOD URL → what`; the part after the arrow is the news.
    const what = error.message.split(' → ').slice(1).join(' → ') || error.message
    throw new PiholeError(`Pi-hole ${target.url}: ${method} ${shownPath} → ${what}`, { url: target.url, method, path: shownPath, status: error.status, cause: error, hint: tlsHint(what, target.configKey) ?? unreachableHint(what, target) })
  }
}

/** Nothing (or nothing that answers) at that address: the two things to look at. */
function unreachableHint(what: string, target: PiholeTarget): string | undefined {
  if (!/connection refused|host name not found|host name lookup failed|unreachable|connect timed out/.test(what)) return undefined
  return `check that the Pi-hole is up and that ${target.configKey}.url (${target.url}: scheme, address, port) is where its web interface answers`
}

function tlsHint(what: string, configKey: string): string | undefined {
  if (!what.includes('TLS verification failed')) return undefined
  return `the Pi-hole's own certificate is self-signed: set ${configKey}.ca (or caFile) to it, or, knowingly, ${configKey}.insecureSkipTlsVerify: true`
}

/** FTL's error object, when the body has one. */
export type FtlErrorBody = { error?: { key?: string; message?: string; hint?: string | null } }

/** ` (key: message; hint)` from an FTL error body, or nothing. */
export function ftlErrorText(response: HttpResponse): string {
  const body = jsonOrUndefined<FtlErrorBody>(response)
  const e = body?.error
  if (!e) return ''
  return ` (${[e.key, e.message].filter(Boolean).join(': ')}${e.hint ? `; ${e.hint}` : ''})`
}

/** A body read as JSON when it is JSON. Used where a non-JSON answer is itself the information (probes, errors). */
export function jsonOrUndefined<T>(response: HttpResponse): T | undefined {
  const text = response.text()
  if (!/^\s*[[{]/.test(text)) return undefined
  return response.json<T>()
}

export function statusError(target: PiholeTarget, method: string, path: string, response: HttpResponse, hint?: string): PiholeError {
  return new PiholeError(`Pi-hole ${target.url}: ${method} ${path} → ${response.status}${ftlErrorText(response)}`, { url: target.url, method, path, status: response.status, hint })
}

/**
 * What a Pi-hole v6 that is not one (a proxy, a login page, a v5) answers. Names the Pi-hole and its config key, what
 * was expected, a short scrubbed excerpt of what came instead, and what to check.
 */
export function unexpectedV6Body(target: PiholeTarget, request: { method: string; path: string; response: HttpResponse; found: string; cause?: unknown }): PiholeError {
  const { method, path, response, found } = request
  const key = target.configKey
  const excerpt = bodyExcerpt(response.text(), 80)
  return new PiholeError(
    `Pi-hole ${target.url} (${key}): ${method} ${path} → ${statusText(response.status)} with ${found}${excerpt ? ` \`${excerpt}\`` : ''}; expected JSON from the Pi-hole v6 API at ${path}`,
    {
      url: target.url, method, path, status: response.status, key: `${key}.url`, cause: request.cause,
      hint: `check that ${key}.url points at Pi-hole v6's web server, not a proxy or a login page; if it runs Pi-hole v5, set ${key}.version: v5`,
    },
  )
}

/** A v6 answer's body as JSON; anything else is an unexpectedV6Body error. */
export function v6Json<T>(target: PiholeTarget, method: string, path: string, response: HttpResponse): T {
  try {
    return JSON.parse(response.text()) as T
  } catch (error) {
    throw unexpectedV6Body(target, { method, path, response, found: response.text().trim() ? 'a body that is not JSON' : 'an empty body', cause: error })
  }
}
