import { Secret } from '@homelab/core'
import bcrypt from 'bcryptjs'

export type HtpasswdUser = { name: string; password: Secret }

/**
 * Distribution only accepts bcrypt. Cost 10 is Go's bcrypt.DefaultCost, the one Distribution uses for the htpasswd file
 * it provisions itself; Apache's `htpasswd -B` defaults to 5, far cheaper to brute-force from a leaked Secret. The
 * price: Distribution compares the hash on every authenticated request, tens of milliseconds each on a small node.
 */
export const BCRYPT_COST = 10

const BCRYPT_PREFIX = /^\$2[aby]\$\d\d\$/

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

/** True when `line` is `name:<bcrypt hash>` and the hash matches the password: a whole bcrypt, tens of milliseconds. */
export async function htpasswdLineMatches(line: string, password: Secret): Promise<boolean> {
  const hash = line.slice(line.indexOf(':') + 1)
  return BCRYPT_PREFIX.test(hash) && bcrypt.compare(password.reveal(), hash)
}

export type RenderHtpasswdOptions = {
  /** bcrypt cost of new lines; the tests lower it. */
  cost?: number
  /** How a kept line is checked (default: a bcrypt; the credentials Secret can vouch for lines it has seen). */
  matches?: LineMatcher
}

/**
 * The htpasswd file for `users`, in their order. bcrypt salts differ on every hash, so a user whose password still
 * matches keeps its exact current line: an unchanged user list renders the same bytes, and a changed password changes
 * that user's line only. Users not in the list are dropped.
 */
export async function renderHtpasswd(users: readonly HtpasswdUser[], current: string | undefined, options: RenderHtpasswdOptions = {}): Promise<string> {
  const { cost = BCRYPT_COST, matches = htpasswdLineMatches } = options
  const existing = parseHtpasswd(current ?? '')
  const lines: string[] = []
  for (const user of users) {
    const kept = existing.get(user.name)
    lines.push(kept !== undefined && (await matches(kept, user.password)) ? kept : `${user.name}:${await hashPassword(user.password, cost)}`)
  }
  return lines.map((line) => `${line}\n`).join('')
}
