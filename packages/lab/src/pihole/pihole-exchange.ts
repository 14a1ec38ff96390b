import type { IncomingHttpHeaders } from 'node:http'

/** A request as the Pi-hole double's handlers see it: the body already read (JSON parsed when it is JSON). */
export type DoubleRequest = {
  method: string
  url: URL
  headers: IncomingHttpHeaders
  /** Parsed JSON, the raw text when it is not JSON, undefined when empty. */
  body: unknown
}

/** `json` is sent as JSON; `text` as it is (v5's lighttpd pages); neither: an empty body. */
export type DoubleResponse = { status: number; json?: unknown; text?: string }

/** FTL's error object; `took` is on every FTL reply. */
export const ftlError = (status: number, key: string, message: string, hint: string | null = null): DoubleResponse => ({
  status,
  json: { error: { key, message, hint }, took: took() },
})

export const took = () => Math.round(Math.random() * 1000) / 1e6
