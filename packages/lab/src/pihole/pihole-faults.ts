import { ftlError, type DoubleResponse } from './pihole-exchange.js'

/** Which requests a fault hits: all by default. */
export type FaultMatch = { method?: string; pathPrefix?: string }

/**
 * Trouble a test can switch on: an answer with this status instead of the real one, a request that is never answered,
 * no server at all (connection refused) until the fault is cleared, or `body`: these raw bytes sent as
 * `application/json` (garbage JSON, a wrong shape) with the given status (default 200).
 */
export type PiholeFault =
  | (({ kind: 'status'; status: number } | { kind: 'hang' } | { kind: 'body'; body: string; status?: number }) & { match?: FaultMatch })
  | { kind: 'down' }

export const requestMatches = (match: FaultMatch | undefined, method: string, path: string): boolean =>
  (match?.method === undefined || match.method === method) && path.startsWith(match?.pathPrefix ?? '')

export const faultMatches = (fault: PiholeFault, method: string, path: string): boolean => fault.kind !== 'down' && requestMatches(fault.match, method, path)

const FAULT_BODIES: Record<number, () => DoubleResponse> = {
  401: () => ftlError(401, 'unauthorized', 'Unauthorized'),
  429: () => ftlError(429, 'api_seats_exceeded', 'API seats exceeded', 'increase webserver.api.max_sessions'),
}

export const faultResponse = (status: number): DoubleResponse => FAULT_BODIES[status]?.() ?? ftlError(status, 'internal_error', 'Internal server error (lab fault)')
