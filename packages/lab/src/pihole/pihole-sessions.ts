import { randomBytes } from 'node:crypto'

export type PiholeSession = { sid: string; csrf: string; app: boolean; expiresAt: number }

/** FTL's `MAX_PASSWORD_ATTEMPTS_PER_SECOND`: the fourth login within one second is refused. */
export const LOGIN_ATTEMPTS_PER_SECOND = 3
/** `webserver.session.timeout`, FTL's default. */
export const SESSION_VALIDITY_SECONDS = 1800

/** `open`: live sessions, each holding a seat (an expired one no longer counts: the next login frees it). */
export type SessionCounts = { readonly open: number; readonly opened: number; readonly closed: number }

/** The API seats of one Pi-hole: `webserver.api.max_sessions`, expiry freed lazily at the next login, as FTL does. */
export class PiholeSessionTable {
  readonly #sessions = new Map<string, PiholeSession>()
  #opened = 0
  #closed = 0
  #attemptSecond = -1
  #attemptsThisSecond = 0

  constructor(readonly maxSessions: number, private readonly now: () => number = Date.now) {}

  /** True when this login attempt is over the per-second limit. */
  rateLimited(): boolean {
    const second = Math.floor(this.now() / 1000)
    if (second !== this.#attemptSecond) {
      this.#attemptSecond = second
      this.#attemptsThisSecond = 0
    }
    this.#attemptsThisSecond++
    return this.#attemptsThisSecond > LOGIN_ATTEMPTS_PER_SECOND
  }

  /** A new session, or undefined when every seat is taken. */
  open(app: boolean): PiholeSession | undefined {
    for (const [sid, s] of this.#sessions) if (s.expiresAt <= this.now()) this.#sessions.delete(sid)
    if (this.#sessions.size >= this.maxSessions) return undefined
    // FTL's SIDs are base64 and contain `+`, `/` and `=`: clients must not assume URL-safe text.
    const session = { sid: randomBytes(16).toString('base64'), csrf: randomBytes(16).toString('base64'), app, expiresAt: this.now() + SESSION_VALIDITY_SECONDS * 1000 }
    this.#sessions.set(session.sid, session)
    this.#opened++
    return session
  }

  /** The live session for a SID, extended as every authenticated request extends it. */
  find(sid: string | undefined): { session?: PiholeSession; problem?: 'no SID provided' | 'session unknown' | 'session expired' } {
    if (!sid) return { problem: 'no SID provided' }
    const session = this.#sessions.get(sid)
    if (!session) return { problem: 'session unknown' }
    if (session.expiresAt <= this.now()) return { problem: 'session expired' }
    session.expiresAt = this.now() + SESSION_VALIDITY_SECONDS * 1000
    return { session }
  }

  /**
   * Every session ends now, as `webserver.session.timeout` ends an idle one: its SID gets 401 `unauthorized` and
   * `GET /api/auth` says "session expired" until the next login frees the seat.
   */
  expireAll(): void {
    for (const s of this.#sessions.values()) s.expiresAt = Math.min(s.expiresAt, this.now())
  }

  /** Every session is gone ("session unknown"), as after an FTL restart with `webserver.session.restore = false`. */
  forgetAll(): void {
    this.#sessions.clear()
  }

  close(sid: string): boolean {
    const closed = this.#sessions.delete(sid)
    if (closed) this.#closed++
    return closed
  }

  get counts(): SessionCounts {
    const open = [...this.#sessions.values()].filter((s) => s.expiresAt > this.now()).length
    return { open, opened: this.#opened, closed: this.#closed }
  }
}
