// Looks for known secret values wherever the tool could leave them: what it printed, what it threw, the files it
// wrote, and every process's argv while it ran. Each find is a leak, named by where it was and which secret.
import { readdirSync, readFileSync, statSync } from 'node:fs'
import { join } from 'node:path'
import { recordLeak } from './reliability-tally.js'

/** The values the suite's configs carry; a leak scan looks for each, plus the encodings a leak would take. */
export const KNOWN_SECRETS = {
  registryPassword: 'rel-registry-pw-3c9f1e7a',
  piholePassword: 'rel-pihole-pw-81d0b2c4',
  localstackToken: 'ls-rel-token-5e6f7a8b9c0d',
} as const

const forms = (value: string) => [value, encodeURIComponent(value), Buffer.from(value).toString('base64')]

export class LeakScan {
  readonly leaks: string[] = []
  private readonly secrets = new Map<string, string>(Object.entries(KNOWN_SECRETS))
  private sampler: NodeJS.Timeout | undefined
  private cmdlines = new Set<string>()
  samples = 0

  /** A secret only known at run time (the lab's sudo password). */
  addSecret(name: string, value: string): void {
    this.secrets.set(name, value)
  }

  /** Returns the names of the secrets found in `text`, and records each as a leak at `where`. */
  scanText(where: string, text: string): string[] {
    const found = [...this.secrets].filter(([, value]) => forms(value).some((f) => text.includes(f))).map(([name]) => name)
    for (const name of found) {
      this.leaks.push(`${name} in ${where}`)
      recordLeak(where, name)
    }
    return found
  }

  /** Every regular file under `dir` except those `allowed` says may hold a secret; returns how many were read. */
  scanFiles(dir: string, allowed: (path: string) => boolean): number {
    let read = 0
    const walk = (path: string, depth: number) => {
      const stat = statSync(path, { throwIfNoEntry: false })
      if (!stat) return
      if (stat.isDirectory() && depth < 12) for (const name of readdirSync(path)) walk(join(path, name), depth + 1)
      // Sockets, fifos and the lab's containerd blobs are not files the tool writes; large files are logs.
      if (!stat.isFile() || stat.size > 32 * 1024 * 1024 || allowed(path)) return
      read++
      this.scanText(`file ${path}`, readFileSync(path, 'latin1'))
    }
    walk(dir, 0)
    return read
  }

  /** Samples /proc/<pid>/cmdline of every process every few milliseconds until stopArgv(). */
  startArgv(): void {
    this.sampler ??= setInterval(() => this.sampleArgv(), 3)
  }

  stopArgv(): void {
    clearInterval(this.sampler)
    this.sampler = undefined
    for (const line of this.cmdlines) this.scanText(`argv ${JSON.stringify(line.slice(0, 120))}`, line)
    this.cmdlines.clear()
  }

  private sampleArgv(): void {
    this.samples++
    for (const pid of readdirSync('/proc').filter((p) => /^\d+$/.test(p))) {
      try {
        this.cmdlines.add(readFileSync(`/proc/${pid}/cmdline`, 'latin1').split('\0').join(' '))
      } catch (error) {
        // The process ended between the listing and the read: nothing left to see.
        if (!['ENOENT', 'ESRCH'].includes((error as NodeJS.ErrnoException).code ?? '')) throw error
      }
    }
  }
}
