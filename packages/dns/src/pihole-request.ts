import { HttpError, type HttpClient, type HttpRequestOptions, type HttpResponse } from '@homelab/core'
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
    throw new PiholeError(`Pi-hole ${target.url}: ${method} ${shownPath} → ${what}`, { url: target.url, method, path: shownPath, status: error.status, cause: error, hint: tlsHint(what, target.configKey) })
  }
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
