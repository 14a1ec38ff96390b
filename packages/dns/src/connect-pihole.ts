import { createHttpClient, type HttpClient, type HomelabConfig, type RetryPolicy } from '@homelab/core'
import { PiholeError } from './errors/pihole-error.js'
import type { PiholeClient } from './pihole-client.js'
import { jsonOrUndefined, piholeRequest, type PiholeTarget } from './pihole-request.js'
import { piholeV5Client } from './pihole-v5-client.js'
import { piholeV6Client } from './pihole-v6-client.js'

export type PiholeConfig = HomelabConfig['dns']['piholes'][number]

export type ConnectPiholeOptions = {
  pihole: PiholeConfig
  index: number
  timeoutMs: number
  retries: RetryPolicy
  signal?: AbortSignal
  /** Told what the client did on its own that a user should see in the run's output (a login made again). */
  onNotice?: (message: string) => void
}

/** The config key of one Pi-hole, as messages name it. */
export const piholeConfigKey = (index: number) => `dns.piholes[${index}]`

/** An HTTP client for one Pi-hole, with its own trust: its CA, or (visibly) none, and an optional fixed address. */
export function piholeHttpClient({ pihole, timeoutMs, retries }: Pick<ConnectPiholeOptions, 'pihole' | 'timeoutMs' | 'retries'>): HttpClient {
  const host = new URL(pihole.url).hostname
  return createHttpClient({
    baseUrl: pihole.url,
    timeoutMs,
    retries,
    ...(pihole.ca ? { ca: pihole.ca } : {}),
    insecureSkipTlsVerify: pihole.insecureSkipTlsVerify,
    ...(pihole.resolveTo ? { resolve: { [host]: pihole.resolveTo } } : {}),
  })
}

/** The client for one configured Pi-hole; with `version: auto`, asks the Pi-hole which API it speaks. */
export async function connectPihole(options: ConnectPiholeOptions): Promise<PiholeClient> {
  const { pihole, index } = options
  const target: PiholeTarget = { url: pihole.url, configKey: piholeConfigKey(index), http: piholeHttpClient(options) }
  try {
    const version = pihole.version === 'auto' ? await detectPiholeVersion(target) : pihole.version
    return version === 'v6'
      ? piholeV6Client({ ...target, password: pihole.password, ...(options.signal ? { signal: options.signal } : {}), ...(options.onNotice ? { onNotice: options.onNotice } : {}) })
      : piholeV5Client({ ...target, password: pihole.password })
  } catch (error) {
    await target.http.close()
    throw error
  }
}

/**
 * v6 answers `/api/auth` with a session object (200 or 401); v5 has no `/api`, but `admin/api.php?version` gives
 * `{"version":3}`. Neither: say so rather than guess.
 */
export async function detectPiholeVersion(target: PiholeTarget): Promise<'v6' | 'v5'> {
  const probe = await piholeRequest(target, 'GET', '/api/auth', { expect: [200, 400, 401, 403, 404] })
  if ((probe.status === 200 || probe.status === 401) && jsonOrUndefined<{ session?: unknown }>(probe)?.session !== undefined) return 'v6'
  const legacy = await piholeRequest(target, 'GET', '/admin/api.php', { query: { version: '' }, shownPath: '/admin/api.php?version', expect: [200, 400, 404] })
  if (legacy.status === 200 && typeof jsonOrUndefined<{ version?: unknown }>(legacy)?.version === 'number') return 'v5'
  throw new PiholeError(`Pi-hole ${target.url}: neither the v6 API (/api/auth → ${probe.status}) nor the v5 API (/admin/api.php → ${legacy.status}) answered`, {
    url: target.url, key: `${target.configKey}.url`, hint: `check ${target.configKey}.url, or set ${target.configKey}.version`,
  })
}
