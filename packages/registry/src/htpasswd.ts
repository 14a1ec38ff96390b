import { REGISTRY_BCRYPT_COST, Secret } from '@homelab/core'
import bcrypt from 'bcryptjs'

export type HtpasswdUser = { name: string; password: Secret }

/**
 * Distribution only accepts bcrypt, and compares the hash on every authenticated request, with no cache: each blob and
 * manifest of every push and pull pays one bcrypt (distribution#3017: a push of layers already there took 6.3 s with
 * cost 12 and 0.3 s with cost 4, and 2 GB of images over an hour). Cost 5 is what Apache's `htpasswd -B` writes, the
 * tool Distribution's docs make the file with; Go's default, 10, costs 32 times as much: about 55 ms of the registry's
 * CPU a request on the lab's VM, more on a small node. A higher cost would guard the hashes against brute force if the
 * Secret leaked, but nothing is behind them that is not in plain text beside them: every password is in the
 * credentials Secret in the same namespace, readable by the same people (and the first user's in every node's
 * registries.yaml). `registry.auth.bcryptCost` (REGISTRY_BCRYPT_COST unless set) raises it.
 */
export const BCRYPT_COST = REGISTRY_BCRYPT_COST

const BCRYPT_PREFIX = /^\$2[aby]\$(\d\d)\$/

/** The cost a bcrypt hash was made with (`$2y$05$…` → 5), or undefined for any other format. */
export const bcryptCostOf = (hash: string): number | undefined => {
  const match = BCRYPT_PREFIX.exec(hash)
  return match ? Number(match[1]) : undefined
}

/**
 * bcryptjs writes `$2b$`; Apache's htpasswd writes and reads `$2y$`. The two name the same algorithm (both fixed the
 * old 8-bit bug), Go's bcrypt in Distribution accepts any minor letter, and bcryptjs compares `$2y$` too, so the
 * file uses the form every htpasswd reader knows.
 */
export const toApacheBcrypt = (hash: string) => hash.replace(/^\$2[ab]\$/, '$2y$')

/**
 * name → the user's whole line, exactly as stored. Every hash found is registered as a secret value, so it is masked
 * if it ever reaches output by some other path.
 */
export function parseHtpasswd(text: string): Map<string, string> {
  const lines = new Map<string, string>()
  for (const line of text.split('\n')) {
    const separator = line.indexOf(':')
    if (separator <= 0) continue
    const name = line.slice(0, separator)
    new Secret(line.slice(separator + 1))
    if (!lines.has(name)) lines.set(name, line)
  }
  return lines
}

export async function hashPassword(password: Secret, cost: number = BCRYPT_COST): Promise<string> {
  const hash = toApacheBcrypt(await bcrypt.hash(password.reveal(), cost))
  new Secret(hash)
  return hash
}

/** Whether a stored htpasswd line (`name:<hash>`) is a hash of this password. */
export type LineMatcher = (line: string, password: Secret) => Promise<boolean>

/** True when `line` is `name:<bcrypt hash>` and the hash matches the password: a whole bcrypt, at the line's cost. */
export async function htpasswdLineMatches(line: string, password: Secret): Promise<boolean> {
  const hash = line.slice(line.indexOf(':') + 1)
  return BCRYPT_PREFIX.test(hash) && bcrypt.compare(password.reveal(), hash)
}

export type RenderHtpasswdOptions = {
  /** bcrypt cost of the file's lines (registry.auth.bcryptCost); the tests lower it. */
  cost?: number
  /** How a kept line is checked (default: a bcrypt; the credentials Secret can vouch for lines it has seen). */
  matches?: LineMatcher
}

/**
 * The htpasswd file for `users`, in their order. bcrypt salts differ on every hash, so a user whose password still
 * matches keeps its exact current line: an unchanged user list renders the same bytes, and a changed password changes
 * that user's line only. A line made with another cost is made again with this one (once, after the cost changed), so
 * the file holds the configured cost. Users not in the list are dropped.
 */
export async function renderHtpasswd(users: readonly HtpasswdUser[], current: string | undefined, options: RenderHtpasswdOptions = {}): Promise<string> {
  const { cost = BCRYPT_COST, matches = htpasswdLineMatches } = options
  const existing = parseHtpasswd(current ?? '')
  const lines: string[] = []
  for (const user of users) {
    const kept = existing.get(user.name)
    const keep = kept !== undefined && bcryptCostOf(kept.slice(kept.indexOf(':') + 1)) === cost && (await matches(kept, user.password))
    lines.push(keep ? kept : `${user.name}:${await hashPassword(user.password, cost)}`)
  }
  return lines.map((line) => `${line}\n`).join('')
}
