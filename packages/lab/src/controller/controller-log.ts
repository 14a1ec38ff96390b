import { appendFileSync } from 'node:fs'

/**
 * The controller's own log writer: one timestamped line per event, appended to its log file. A pass runs every few
 * hundred milliseconds, so a condition that persists (an image the lab cannot run) is written once, not every pass.
 */
export class ControllerLog {
  readonly file: string
  readonly #lastByKey = new Map<string, string>()

  constructor(file: string) {
    this.file = file
  }

  info(message: string): void {
    appendFileSync(this.file, `${new Date().toISOString()} ${message}\n`)
  }

  /** Logs `message` unless it is what was last logged under `key`. */
  once(key: string, message: string): void {
    if (this.#lastByKey.get(key) === message) return
    this.#lastByKey.set(key, message)
    this.info(message)
  }

  /** Forgets `key`, so the same message is logged again if the condition comes back. */
  clear(key: string): void {
    this.#lastByKey.delete(key)
  }

  failure(key: string, what: string, error: unknown): void {
    this.once(key, `${what}: ${error instanceof Error ? error.message : String(error)}`)
  }
}
