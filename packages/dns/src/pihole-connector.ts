import type { RetryPolicy, Shared } from '@homelab/core'
import { connectPihole, piholeConfigKey, type PiholeConfig } from './connect-pihole.js'
import { logoutFailed, withOpenSession, type OpenSession, type PiholeClient, type PiholeSession } from './pihole-client.js'

/** One configured Pi-hole, ready to be talked to. */
export type PiholeConnector = {
  readonly url: string
  readonly label: string
  readonly configKey: string
  readonly pihole: PiholeConfig
  withSession<T>(work: (session: PiholeSession, client: PiholeClient) => Promise<T>): Promise<T>
}

export type PiholeConnectorOptions = {
  pihole: PiholeConfig
  index: number
  timeoutMs: number
  retries: RetryPolicy
  signal?: AbortSignal
  /**
   * The run's shared values (`ctx.shared`): then every step and task of the run works in one login per Pi-hole,
   * ended when the run closes its connections. FTL allows three logins a second and a few seats, and hashes the
   * password slowly on purpose; preflight, then sync's check, then its writes each logged in before. Without it,
   * each withSession logs in, and out again, on a connection of its own.
   */
  shared?: Shared
  /** Told what the client did on its own that a user should see (a login made again mid-run). */
  onNotice?: (message: string) => void
}

/**
 * A run's shared session. Whichever task opened it (preflight, in a pipeline), its notices go to the task working in
 * it now: each withSession points `notify` at its own connector's.
 */
type RunSession = OpenSession & { client: PiholeClient; notify: { to: ((message: string) => void) | undefined } }

export function piholeConnector(options: PiholeConnectorOptions): PiholeConnector {
  const { pihole } = options
  // `version: auto` is asked once per connector, not once per session.
  let version = pihole.version
  const connect = async (onNotice = options.onNotice) => {
    const client = await connectPihole({ ...options, pihole: { ...pihole, version }, ...(onNotice ? { onNotice } : {}) })
    version = client.version
    return client
  }
  const label = pihole.name ? `${pihole.name} (${pihole.url})` : pihole.url
  return {
    url: pihole.url,
    label,
    configKey: piholeConfigKey(options.index),
    pihole,
    async withSession(work) {
      if (!options.shared) {
        const client = await connect()
        try {
          return await withOpenSession(pihole.url, await client.open(), (session) => work(session, client))
        } finally {
          // Undici keeps idle sockets for seconds; a finished session should not hold the process open.
          await client.close()
        }
      }
      // The key is the config entry itself: every task of one run sees the same config object.
      const shared = options.shared
      const run = await shared.get<RunSession>(pihole, () => openRunSession(connect), endRunSession)
      run.notify.to = options.onNotice
      try {
        return await work(run.session, run.client)
      } catch (error) {
        // A session that saw an error is not used again; it is ended now, as a one-off session would be.
        await shared.discard(pihole).catch((logoutError: unknown) => {
          throw logoutFailed(pihole.url, error, logoutError)
        })
        throw error
      }
    },
  }
}

async function openRunSession(connect: (onNotice: (message: string) => void) => Promise<PiholeClient>): Promise<RunSession> {
  const notify: RunSession['notify'] = { to: undefined }
  const client = await connect((message) => notify.to?.(message))
  try {
    return { ...(await client.open()), client, notify }
  } catch (error) {
    await client.close()
    throw error
  }
}

async function endRunSession(run: RunSession): Promise<void> {
  try {
    await run.end()
  } finally {
    await run.client.close()
  }
}
