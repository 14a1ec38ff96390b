import { existsSync, readFileSync, renameSync, writeFileSync } from 'node:fs'
import { isIP } from 'node:net'
import { join } from 'node:path'

/** The two arrays FTL keeps in `pihole.toml`: `dns.hosts` ("IP NAME [NAME…]") and `dns.cnameRecords` ("alias,target[,ttl]"). */
export type PiholeRecords = { hosts: string[]; cnameRecords: string[] }

export type RecordElement = keyof PiholeRecords

export type StoreOutcome =
  | { kind: 'done' }
  | { kind: 'present' }
  | { kind: 'absent' }
  | { kind: 'invalid'; hint: string }

const HOSTNAME = /^(?=.{1,253}$)([a-zA-Z0-9_]([a-zA-Z0-9_-]{0,61}[a-zA-Z0-9_])?)(\.[a-zA-Z0-9_]([a-zA-Z0-9_-]{0,61}[a-zA-Z0-9_])?)*\.?$/

/** FTL's `validate_dns_hosts`, with the hint texts the reference saw from a real FTL. */
export function validateHostEntry(entry: string, index: number): string | undefined {
  const [ip, ...names] = entry.trim().split(/\s+/)
  if (!ip || isIP(ip) === 0) return `dns.hosts[${index}]: neither a valid IPv4 nor IPv6 address (${JSON.stringify(ip ?? '')})`
  if (names.length === 0) return `dns.hosts[${index}]: entry does not have at least one hostname (${JSON.stringify(entry)})`
  const bad = names.find((name) => !HOSTNAME.test(name))
  return bad === undefined ? undefined : `dns.hosts[${index}]: invalid hostname (${JSON.stringify(bad)})`
}

/** FTL's `validate_dns_cnames` only counts fields. */
export function validateCnameEntry(entry: string, index: number): string | undefined {
  const fields = entry.split(',')
  return fields.length >= 2 && fields.every((f) => f.trim() !== '') ? undefined : `dns.cnameRecords[${index}]: not a valid CNAME definition (too few elements)`
}

/** FTL ≥ v6.3 stores `dns.hosts` with single spaces (`sanitize_dns_hosts`); v6.2 kept the string verbatim. */
export const normaliseHostEntry = (entry: string) => entry.trim().split(/\s+/).join(' ')

/**
 * The Pi-hole's records, persisted in `<stateDir>/records.json` so a double restarted on the same folder keeps them,
 * as a real Pi-hole would. Exact-string semantics, like FTL's `strcmp`.
 */
export class PiholeRecordStore {
  readonly #file: string
  #records: PiholeRecords

  constructor(stateDir: string, private readonly normaliseWhitespace: boolean) {
    this.#file = join(stateDir, 'records.json')
    this.#records = existsSync(this.#file) ? (JSON.parse(readFileSync(this.#file, 'utf8')) as PiholeRecords) : { hosts: [], cnameRecords: [] }
  }

  get records(): PiholeRecords {
    return { hosts: [...this.#records.hosts], cnameRecords: [...this.#records.cnameRecords] }
  }

  add(element: RecordElement, value: string): StoreOutcome {
    const list = this.#records[element]
    const stored = element === 'hosts' && this.normaliseWhitespace ? normaliseHostEntry(value) : value
    const hint = element === 'hosts' ? validateHostEntry(stored, list.length) : validateCnameEntry(stored, list.length)
    if (hint !== undefined) return { kind: 'invalid', hint }
    if (list.includes(stored)) return { kind: 'present' }
    list.push(stored)
    this.#save()
    return { kind: 'done' }
  }

  /** DELETE matches the exact stored string: a differently spaced one is "not found". */
  remove(element: RecordElement, value: string): StoreOutcome {
    const list = this.#records[element]
    const index = list.indexOf(value)
    if (index < 0) return { kind: 'absent' }
    list.splice(index, 1)
    this.#save()
    return { kind: 'done' }
  }

  /** Entries typed in by hand (the web UI, another tool): stored verbatim, no validation. */
  seed(records: Partial<PiholeRecords>): void {
    this.#records.hosts.push(...(records.hosts ?? []))
    this.#records.cnameRecords.push(...(records.cnameRecords ?? []))
    this.#save()
  }

  #save(): void {
    writeFileSync(`${this.#file}.tmp`, JSON.stringify(this.#records, null, 2) + '\n')
    renameSync(`${this.#file}.tmp`, this.#file)
  }
}

/** dnsmasq's views of the records: an addn-hosts file and `cname=` lines. */
export const hostsFileText = (records: PiholeRecords) => records.hosts.map((h) => `${h}\n`).join('')
export const cnameConfText = (records: PiholeRecords) => records.cnameRecords.map((c) => `cname=${c.trim()}\n`).join('')
