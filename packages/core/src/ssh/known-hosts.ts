import { createHash, createHmac, randomBytes } from 'node:crypto'
import { readFile, rename, writeFile, unlink } from 'node:fs/promises'
import { basename, dirname, join } from 'node:path'
import { HostKeyError } from '../errors/ssh-error.js'
import { shellQuote } from './shell-quote.js'

/** One usable line of an OpenSSH `known_hosts` file; `line` is 1-based, as editors and `ssh-keygen -R` show it. */
export type KnownHostsEntry = {
  line: number
  marker: 'revoked' | 'cert-authority' | undefined
  hosts: string
  keyType: string
  keyBase64: string
}

export type HostKeyVerdict =
  | { kind: 'known'; line: number }
  | { kind: 'unknown' }
  | { kind: 'changed'; line: number; knownType: string }
  | { kind: 'revoked'; line: number }

/** The name OpenSSH records a host under: bare for port 22, `[host]:port` otherwise. */
export function knownHostName(host: string, port: number): string {
  return port === 22 ? host : `[${host}]:${port}`
}

/** `SHA256:…` exactly as `ssh-keygen -lf` and OpenSSH's own prompts print it. */
export function fingerprintOf(keyBlob: Buffer): string {
  return `SHA256:${createHash('sha256').update(keyBlob).digest('base64').replace(/=+$/, '')}`
}

/** The algorithm name a raw public key blob starts with (`ssh-ed25519`, `ecdsa-sha2-nistp256`, …). */
export function keyTypeOf(keyBlob: Buffer): string {
  if (keyBlob.length < 4) return 'unknown'
  const length = keyBlob.readUInt32BE(0)
  return keyBlob.subarray(4, 4 + length).toString('latin1')
}

/** Pure. Malformed lines are skipped, as OpenSSH does, so one bad line never hides the good ones. */
export function parseKnownHosts(text: string): KnownHostsEntry[] {
  const entries: KnownHostsEntry[] = []
  text.split('\n').forEach((raw, index) => {
    const fields = raw.trim().split(/\s+/)
    if (fields[0] === undefined || fields[0] === '' || fields[0].startsWith('#')) return
    let marker: KnownHostsEntry['marker']
    if (fields[0].startsWith('@')) {
      const name = fields.shift()
      marker = name === '@revoked' ? 'revoked' : name === '@cert-authority' ? 'cert-authority' : undefined
      if (marker === undefined) return
    }
    const [hosts, keyType, keyBase64] = fields
    if (hosts === undefined || keyType === undefined || keyBase64 === undefined) return
    entries.push({ line: index + 1, marker, hosts, keyType, keyBase64 })
  })
  return entries
}

function globMatches(pattern: string, name: string): boolean {
  const source = pattern.replace(/[.+^${}()|[\]\\]/g, '\\$&').replace(/\*/g, '.*').replace(/\?/g, '.')
  return new RegExp(`^${source}$`, 'i').test(name)
}

function hashedMatches(field: string, name: string): boolean {
  const [, magic, salt, hash] = field.split('|')
  if (magic !== '1' || salt === undefined || hash === undefined) return false
  return createHmac('sha1', Buffer.from(salt, 'base64')).update(name).digest('base64') === hash
}

/** Pure. OpenSSH semantics: a hashed field, or comma-separated globs where one matching `!pattern` vetoes the line. */
export function hostFieldMatches(field: string, host: string, port: number): boolean {
  const name = knownHostName(host, port)
  if (field.startsWith('|')) return hashedMatches(field, name)
  let matched = false
  for (const pattern of field.split(',')) {
    const negated = pattern.startsWith('!')
    if (!globMatches(negated ? pattern.slice(1) : pattern, name)) continue
    if (negated) return false
    matched = true
  }
  return matched
}

/** Pure. A key known under another type counts as changed: the node stopped offering the key we trusted. */
export function checkHostKey(entries: readonly KnownHostsEntry[], host: string, port: number, keyBlob: Buffer): HostKeyVerdict {
  const keyBase64 = keyBlob.toString('base64')
  const mine = entries.filter((e) => e.marker !== 'cert-authority' && hostFieldMatches(e.hosts, host, port))
  const revoked = entries.find((e) => e.marker === 'revoked' && e.keyBase64 === keyBase64)
  if (revoked) return { kind: 'revoked', line: revoked.line }
  const plain = mine.filter((e) => e.marker === undefined)
  const same = plain.find((e) => e.keyBase64 === keyBase64)
  if (same) return { kind: 'known', line: same.line }
  const type = keyTypeOf(keyBlob)
  const clash = plain.find((e) => e.keyType === type) ?? plain[0]
  return clash ? { kind: 'changed', line: clash.line, knownType: clash.keyType } : { kind: 'unknown' }
}

/** Pure. The key types `known_hosts` holds for a host, so the client can ask the server for one of those first. */
export function knownKeyTypes(entries: readonly KnownHostsEntry[], host: string, port: number): string[] {
  const types = entries.filter((e) => e.marker === undefined && hostFieldMatches(e.hosts, host, port)).map((e) => e.keyType)
  return [...new Set(types)]
}

export type VerifyHostKeyOptions = { host: string; port: number; keyBlob: Buffer; acceptNew: boolean }

/**
 * One `known_hosts` file. Appends go through a queue because the pool connects to several nodes at once and two
 * read-modify-rename cycles racing would drop a line.
 */
export class KnownHostsFile {
  readonly path: string
  #writes: Promise<unknown> = Promise.resolve()

  constructor(path: string) {
    this.path = path
  }

  async entries(): Promise<KnownHostsEntry[]> {
    return parseKnownHosts(await this.#read())
  }

  /** Resolves when the key is trusted (known, or unknown and appended under acceptNew); throws HostKeyError otherwise. */
  async verify(options: VerifyHostKeyOptions): Promise<void> {
    const verdict = checkHostKey(await this.entries(), options.host, options.port, options.keyBlob)
    if (verdict.kind === 'known') return
    if (verdict.kind === 'unknown' && options.acceptNew) return this.#append(options)
    throw this.#refusal(verdict, options)
  }

  #refusal(verdict: Exclude<HostKeyVerdict, { kind: 'known' }>, options: VerifyHostKeyOptions): HostKeyError {
    const { host, port, keyBlob } = options
    const name = knownHostName(host, port)
    const context = { host: name, path: this.path }
    const fingerprint = `${keyTypeOf(keyBlob)} ${fingerprintOf(keyBlob)}`
    if (verdict.kind === 'unknown') {
      return new HostKeyError(`${name}: host key ${fingerprint} is not in ${this.path}`, {
        ...context,
        hint: `check the fingerprint on the node (ssh-keygen -lf /etc/ssh/ssh_host_ed25519_key.pub), then trust it with \`ssh-keyscan -p ${port} ${host} >> ${this.path}\` or run with --accept-new-host-keys`,
      })
    }
    const where = `${this.path} line ${verdict.line}`
    const what = verdict.kind === 'revoked' ? `is marked @revoked at ${where}` : `differs from the ${verdict.knownType} key at ${where}`
    return new HostKeyError(`${name}: host key ${fingerprint} ${what}; refusing to connect (possible man-in-the-middle)`, {
      ...context,
      knownHostsLine: verdict.line,
      hint: `if the node was really reinstalled, run \`ssh-keygen -R ${shellQuote(name)} -f ${shellQuote(this.path)}\` and connect again`,
    })
  }

  #append(options: VerifyHostKeyOptions): Promise<void> {
    const line = `${knownHostName(options.host, options.port)} ${keyTypeOf(options.keyBlob)} ${options.keyBlob.toString('base64')}\n`
    const next = this.#writes.then(async () => {
      const current = await this.#read()
      const separator = current === '' || current.endsWith('\n') ? '' : '\n'
      await replaceFileAtomically(this.path, current + separator + line)
    })
    // The caller gets the failure through `next`; the queue itself must stay usable for the other nodes.
    this.#writes = next.catch(() => undefined)
    return next
  }

  async #read(): Promise<string> {
    try {
      return await readFile(this.path, 'utf8')
    } catch (error) {
      if ((error as NodeJS.ErrnoException).code === 'ENOENT') return ''
      throw new HostKeyError(`cannot read known_hosts file ${this.path}`, { path: this.path, cause: error, hint: 'check the path and its permissions' })
    }
  }
}

/** Temp file in the same directory + rename, so a reader (or a crash) never sees half a known_hosts file. */
async function replaceFileAtomically(path: string, text: string): Promise<void> {
  const temp = join(dirname(path), `.${basename(path)}.${randomBytes(6).toString('hex')}.tmp`)
  try {
    await writeFile(temp, text, { mode: 0o600, flush: true })
    await rename(temp, path)
  } catch (error) {
    // Best effort: the write error below is the one worth reporting, not a failed cleanup of a file that may not exist.
    await unlink(temp).catch(() => undefined)
    throw new HostKeyError(`cannot add a host key to ${path}`, { path, cause: error, hint: 'check that the directory is writable' })
  }
}
