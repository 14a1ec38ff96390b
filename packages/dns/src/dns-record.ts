/** A record as Pi-hole keeps it: an A/AAAA entry of `dns.hosts`, or a CNAME of `dns.cnameRecords`. */
export type DnsRecord = { type: 'A'; name: string; ip: string } | { type: 'CNAME'; name: string; target: string }

/** One record read from a Pi-hole, with the exact string it is stored as: DELETE only matches that. */
export type PiholeEntry = {
  record: DnsRecord
  stored: string
  /** The stored entry carries other names too (`IP a b`): removing it would remove them as well. */
  shared: boolean
}

/** DNS names compare without case and without a trailing dot; Pi-hole itself stores them as given. */
export const normaliseName = (name: string) => name.toLowerCase().replace(/\.$/, '')

/** The identity of a record, after normalising names: what ownership lists and plans compare. */
export function recordKey(record: DnsRecord): string {
  return record.type === 'A' ? `A ${record.ip} ${normaliseName(record.name)}` : `CNAME ${normaliseName(record.name)},${normaliseName(record.target)}`
}

/** How a record is written to Pi-hole: exactly one space (FTL ≥ 6.3 would normalise anything else). */
export const hostEntryText = (record: Extract<DnsRecord, { type: 'A' }>) => `${record.ip} ${record.name}`
export const cnameEntryText = (record: Extract<DnsRecord, { type: 'CNAME' }>) => `${record.name},${record.target}`

/** The exact text this tool writes for a record; FTL stores it as sent. */
export const entryText = (record: DnsRecord) => (record.type === 'A' ? hostEntryText(record) : cnameEntryText(record))

/**
 * Stored exactly as this tool writes its records: one name, one space, in lowercase, without a trailing dot or a TTL
 * (config names are lowercase and dotless). Any other entry was written by someone else, even when it means the same.
 */
export function isToolShaped(entry: PiholeEntry): boolean {
  const names = entry.record.type === 'A' ? [entry.record.name] : [entry.record.name, entry.record.target]
  return !entry.shared && entry.stored === entryText(entry.record) && names.every((n) => n === normaliseName(n))
}

export const describeRecord = (record: DnsRecord) => (record.type === 'A' ? `A ${record.name} → ${record.ip}` : `CNAME ${record.name} → ${record.target}`)

/**
 * `dns.hosts` entries: `IP NAME [NAME…] [# comment]`, any whitespace (v6.2 stores it verbatim). One entry per name,
 * each remembering the stored string.
 */
export function parseHostEntry(stored: string): PiholeEntry[] {
  const [ip, ...names] = stored.replace(/#.*$/, '').trim().split(/\s+/)
  if (!ip || names.length === 0) return []
  return names.map((name) => ({ record: { type: 'A', name, ip }, stored, shared: names.length > 1 }))
}

/** `dns.cnameRecords` entries: `alias,target[,ttl]`. */
export function parseCnameEntry(stored: string): PiholeEntry[] {
  const [name, target] = stored.split(',').map((f) => f.trim())
  return name && target ? [{ record: { type: 'CNAME', name, target }, stored, shared: false }] : []
}
