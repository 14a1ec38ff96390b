// Looks for known secret values wherever the tool could leave them: what it printed, what it threw, the files it
// wrote, and every process's argv while it ran. Each find is a leak, named by where it was and which secret.
import { readdirSync, readFileSync, statSync } from 'node:fs'
import { join } from 'node:path'
import { sampleProcessArgv, type ArgvSampler } from '@homelab/lab'
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
  private sampler: ArgvSampler | undefined
  private samplesBefore = 0

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

  /** Passes over every process's argv so far, across every startArgv()/stopArgv(). */
  get samples(): number {
    return this.samplesBefore + (this.sampler?.samples ?? 0)
  }

  /** Samples /proc/<pid>/cmdline of every process every few milliseconds until stopArgv(). */
  startArgv(): void {
    this.sampler ??= sampleProcessArgv(3)
  }

  stopArgv(): void {
    const taken = this.sampler?.stop()
    this.sampler = undefined
    if (!taken) return
    this.samplesBefore += taken.samples
    for (const line of taken.seen) this.scanText(`argv ${JSON.stringify(line.slice(0, 120))}`, line)
  }
}
