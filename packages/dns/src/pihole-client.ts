import type { DnsRecord, PiholeEntry } from './dns-record.js'

/** What every Pi-hole adapter (v6 REST, v5 api.php) offers, so steps and plans do not care which one they talk to. */
export type PiholeClient = {
  /** The configured URL: every message about this Pi-hole names it. */
  readonly url: string
  /** `dns.piholes[i]`, for messages that point at the config. */
  readonly configKey: string
  readonly version: 'v6' | 'v5'
  /** Opens a session, runs `work`, and always closes the session again: Pi-hole has few API seats. */
  session<T>(work: (session: PiholeSession) => Promise<T>): Promise<T>
  close(): Promise<void>
}

export type PiholeSession = {
  list(): Promise<PiholeEntry[]>
  /** "Already present" counts as done. */
  add(record: DnsRecord): Promise<'added' | 'present'>
  /** Not found counts as done. */
  remove(entry: PiholeEntry): Promise<'removed' | 'absent'>
  /** After a batch: makes stored-but-not-yet-served changes live (v6 CNAMEs written with `restart=false`). */
  applyPending(): Promise<void>
}
