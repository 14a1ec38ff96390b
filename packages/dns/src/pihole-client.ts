import { PiholeError } from './errors/pihole-error.js'
import type { DnsRecord, PiholeEntry } from './dns-record.js'

/** What every Pi-hole adapter (v6 REST, v5 api.php) offers, so steps and plans do not care which one they talk to. */
export type PiholeClient = {
  /** The configured URL: every message about this Pi-hole names it. */
  readonly url: string
  /** `dns.piholes[i]`, for messages that point at the config. */
  readonly configKey: string
  readonly version: 'v6' | 'v5'
  /** Logs in (v6; v5 has no sessions). Whoever opens a session ends it: Pi-hole has few API seats. */
  open(): Promise<OpenSession>
  close(): Promise<void>
}

export type PiholeSession = {
  list(): Promise<PiholeEntry[]>
  /** "Already present" counts as done. */
  add(record: DnsRecord): Promise<'added' | 'present'>
  /** Not found counts as done. */
  remove(entry: PiholeEntry): Promise<'removed' | 'absent'>
  /**
   * After a batch: makes stored-but-not-yet-served changes live (v6 CNAMEs written with `restart=false`), this
   * session's, or an earlier run's as well when `earlier` says some still wait.
   */
  applyPending(earlier?: boolean): Promise<void>
  /**
   * Why this session may read records but not change them, or undefined when it may change them. Pi-hole v6 logins
   * with an app password are read-only for config unless the Pi-hole sets webserver.api.app_sudo; a login with the
   * admin password (and v5's token) may always write.
   */
  writeRefusal(): Promise<string | undefined>
}

export type OpenSession = {
  readonly session: PiholeSession
  /** Logs out the login in use (a newer one when FTL ended the first); a session already gone counts as ended. */
  end(): Promise<void>
}

/** Opens a session, runs `work`, and always ends the session again, whatever happens in between. */
export async function withOpenSession<T>(url: string, open: OpenSession, work: (session: PiholeSession) => Promise<T>): Promise<T> {
  let result: T
  try {
    result = await work(open.session)
  } catch (error) {
    await open.end().catch((logoutError: unknown) => {
      throw logoutFailed(url, error, logoutError)
    })
    throw error
  }
  await open.end()
  return result
}

/** The error of work that failed in a session whose logout then failed as well: it says both. */
export function logoutFailed(url: string, error: unknown, logoutError: unknown): PiholeError {
  return new PiholeError(`${(error as Error).message}; logging out failed as well: ${(logoutError as Error).message}`, { url, cause: error })
}
