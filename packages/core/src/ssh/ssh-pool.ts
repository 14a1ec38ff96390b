import { KnownHostsFile } from './known-hosts.js'
import { connectSsh } from './ssh-connect.js'
import { SshSession } from './ssh-session.js'
import { targetId, type SshTarget } from './ssh-target.js'

/**
 * One connection per `user@host:port`, shared by every step that touches that node: a rollout over ten nodes opens
 * ten connections, not one per file read. Concurrent `session()` calls for the same node wait for the same handshake.
 */
export class SshPool {
  readonly #sessions = new Map<string, Promise<SshSession>>()
  readonly #knownHosts = new Map<string, KnownHostsFile>()
  #connectionsOpened = 0

  /** How many SSH connections this pool has opened so far (reconnects after a drop included). */
  get connectionsOpened(): number {
    return this.#connectionsOpened
  }

  session(target: SshTarget): Promise<SshSession> {
    const id = targetId(target)
    const existing = this.#sessions.get(id)
    if (!existing) return this.#reconnect(id, target)
    return existing.then((s) => {
      if (!s.closed) return s
      // Of several calls that find the connection dropped, the first reconnects and the others share its connection:
      // a second one would replace the first in the map, and nothing would ever close it.
      const current = this.#sessions.get(id)
      return current && current !== existing ? current : this.#reconnect(id, target)
    })
  }

  async close(): Promise<void> {
    const pending = [...this.#sessions.values()]
    this.#sessions.clear()
    const settled = await Promise.allSettled(pending)
    for (const result of settled) if (result.status === 'fulfilled') result.value.close()
  }

  #reconnect(id: string, target: SshTarget): Promise<SshSession> {
    const opening = this.#open(target)
    this.#sessions.set(id, opening)
    // A failed handshake is not cached: the next call tries again and reports its own error.
    opening.catch(() => {
      if (this.#sessions.get(id) === opening) this.#sessions.delete(id)
    })
    return opening
  }

  async #open(target: SshTarget): Promise<SshSession> {
    this.#connectionsOpened++
    const client = await connectSsh(target, this.#knownHostsFile(target.knownHostsPath))
    return new SshSession(target, client)
  }

  /** One instance per file, so its append queue covers every node connecting in parallel. */
  #knownHostsFile(path: string): KnownHostsFile {
    let file = this.#knownHosts.get(path)
    if (!file) this.#knownHosts.set(path, (file = new KnownHostsFile(path)))
    return file
  }
}
