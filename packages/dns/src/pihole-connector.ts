import type { RetryPolicy } from '@homelab/core'
import { connectPihole, piholeConfigKey, type PiholeConfig } from './connect-pihole.js'
import type { PiholeClient, PiholeSession } from './pihole-client.js'

/** One configured Pi-hole, ready to be talked to: a session at a time, each on a fresh connection closed afterwards. */
export type PiholeConnector = {
  readonly url: string
  readonly label: string
  readonly configKey: string
  readonly pihole: PiholeConfig
  withSession<T>(work: (session: PiholeSession, client: PiholeClient) => Promise<T>): Promise<T>
}

export function piholeConnector(options: { pihole: PiholeConfig; index: number; timeoutMs: number; retries: RetryPolicy; signal?: AbortSignal }): PiholeConnector {
  const { pihole } = options
  // `version: auto` is asked once per run, not once per session.
  let version = pihole.version
  return {
    url: pihole.url,
    label: pihole.name ? `${pihole.name} (${pihole.url})` : pihole.url,
    configKey: piholeConfigKey(options.index),
    pihole,
    async withSession(work) {
      const client = await connectPihole({ ...options, pihole: { ...pihole, version } })
      version = client.version
      try {
        return await client.session((session) => work(session, client))
      } finally {
        // Undici keeps idle sockets for seconds; a finished session should not hold the process open.
        await client.close()
      }
    },
  }
}
