import { createHash } from 'node:crypto'
import { Secret } from '@homelab/core'
import type { HtpasswdUser, LineMatcher } from './htpasswd.js'

/**
 * On the credentials Secret: for each user, a digest of its name, password and htpasswd line, written when that line
 * was made from the password or checked against it. A later run whose password and stored line give the same digest
 * keeps the line without a bcrypt (70 ms of CPU each at cost 10, 2 ms at 5). The digest is a fast hash of the
 * password, so it lives only on the Secret that holds the password itself: whoever can read it can read the password
 * already.
 */
export const VERIFIED_LINES_ANNOTATION = 'homelab-devtools/htpasswd-verified'

function lineDigest(name: string, password: Secret, line: string): string {
  const digest = createHash('sha256').update(`${name}\0${password.reveal()}\0${line}`).digest('hex')
  // Registered as a secret value: masked wherever it could reach output (a diff of the credentials Secret).
  new Secret(digest)
  return digest
}

/** Pure (but for masking registration). The annotation value for these users and the htpasswd file made for them. */
export function verifiedLines(users: readonly HtpasswdUser[], htpasswd: string): string {
  const lines = new Map(htpasswd.split('\n').filter(Boolean).map((line) => [line.slice(0, line.indexOf(':')), line]))
  const entries = users.flatMap((u) => (lines.has(u.name) ? [[u.name, lineDigest(u.name, u.password, lines.get(u.name)!)] as const] : []))
  return JSON.stringify(Object.fromEntries(entries))
}

/**
 * A matcher that trusts a stored line the annotation vouches for (same name, password and line as when it was
 * checked) and asks `fallback` (a bcrypt) about any other. A missing or unreadable annotation vouches for nothing.
 */
export function vouchedMatcher(annotation: string | undefined, fallback: LineMatcher): LineMatcher {
  let vouched: Record<string, unknown> = {}
  try {
    const parsed: unknown = annotation === undefined ? {} : JSON.parse(annotation)
    if (parsed && typeof parsed === 'object' && !Array.isArray(parsed)) vouched = parsed as Record<string, unknown>
  } catch {
    // Someone else's edit of the annotation: every line is checked the slow way, and the annotation rewritten.
  }
  return async (line, password) => {
    const name = line.slice(0, line.indexOf(':'))
    return (typeof vouched[name] === 'string' && vouched[name] === lineDigest(name, password, line)) || fallback(line, password)
  }
}
