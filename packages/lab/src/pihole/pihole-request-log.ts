/** One request the double answered. Query values are not kept: v5 sends its token there. */
export type LoggedRequest = { method: string; path: string; queryKeys: string[]; action?: string; status: number }

/** Every request a Pi-hole double answered, so tests can say "the second sync sent no write". */
export class PiholeRequestLog {
  readonly #entries: LoggedRequest[] = []

  record(entry: LoggedRequest): void {
    this.#entries.push(entry)
  }

  get entries(): readonly LoggedRequest[] {
    return [...this.#entries]
  }

  /** How many requests match `method` (any when undefined) and a path starting with `pathPrefix`. */
  count(method?: string, pathPrefix = ''): number {
    return this.#entries.filter((e) => (method === undefined || e.method === method) && e.path.startsWith(pathPrefix)).length
  }

  /** Requests that change the Pi-hole's records or restart its resolver; logins and logouts are not writes. */
  writes(): LoggedRequest[] {
    return this.#entries.filter(isWrite)
  }

  /** `METHOD path` per entry, for assertion messages. */
  summary(): string[] {
    return this.#entries.map((e) => `${e.method} ${e.path}${e.action ? ` action=${e.action}` : ''} → ${e.status}`)
  }

  reset(): void {
    this.#entries.length = 0
  }
}

function isWrite(e: LoggedRequest): boolean {
  if (e.path === '/admin/api.php') return e.action === 'add' || e.action === 'delete'
  if (e.path.startsWith('/api/config')) return e.method === 'PUT' || e.method === 'DELETE' || e.method === 'PATCH'
  return e.method === 'POST' && e.path.startsWith('/api/action/')
}
