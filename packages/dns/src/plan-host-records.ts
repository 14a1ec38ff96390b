import { describeRecord, normaliseName, recordKey, type DnsRecord, type PiholeEntry } from './dns-record.js'

/**
 * One change to a Pi-hole's records or to what the tool owns there.
 * - add / remove: a Pi-hole write (and, after it succeeded, the ownership update);
 * - own: the wanted record is already there, exactly: it is adopted without a write (this is also how a run that
 *   crashed between the Pi-hole write and the ownership update converges);
 * - forget: an owned record is gone from the Pi-hole and no longer wanted: only the bookkeeping changes;
 * - conflict: a wanted name holds records the tool does not own: the name is left alone and the step fails.
 */
export type RecordChange =
  | { op: 'add'; record: DnsRecord }
  | { op: 'remove'; entry: PiholeEntry; why: 'moved' | 'unwanted' | 'taken over' }
  | { op: 'own'; record: DnsRecord }
  | { op: 'forget'; key: string }
  | { op: 'conflict'; name: string; wanted: DnsRecord; foreign: PiholeEntry[] }

export type PlanOptions = {
  /** Take over foreign records for wanted names (`--adopt`). */
  adopt: boolean
  /** Also remove owned records whose names are no longer wanted (`prune`). */
  prune: boolean
}

const nameOf = (record: DnsRecord) => normaliseName(record.name)

/** Pure. The external-dns idea (current + desired → changes) with an owner list: other people's records always survive. */
export function planHostRecords(current: readonly PiholeEntry[], wanted: readonly DnsRecord[], owned: ReadonlySet<string>, options: PlanOptions): RecordChange[] {
  const wantedByName = new Map(wanted.map((r) => [nameOf(r), r]))
  const wantedKeys = new Set(wanted.map(recordKey))
  const currentKeys = new Set(current.map((e) => recordKey(e.record)))
  const foreign = current.filter((e) => !owned.has(recordKey(e.record)) && !wantedKeys.has(recordKey(e.record)) && wantedByName.has(nameOf(e.record)))
  // --adopt cannot take over an entry that also carries names the tool was not asked about.
  const blocking = foreign.filter((e) => !options.adopt || e.shared)
  const blockedNames = new Set(blocking.map((e) => nameOf(e.record)))
  const removals: RecordChange[] = current.flatMap((entry): RecordChange[] => {
    const key = recordKey(entry.record)
    const name = nameOf(entry.record)
    if (owned.has(key) && !wantedKeys.has(key) && wantedByName.has(name) && !blockedNames.has(name)) return [{ op: 'remove', entry, why: 'moved' }]
    if (owned.has(key) && !wantedByName.has(name) && options.prune) return [{ op: 'remove', entry, why: 'unwanted' }]
    if (foreign.includes(entry) && !blocking.includes(entry)) return [{ op: 'remove', entry, why: 'taken over' }]
    return []
  })
  return [
    // Removals first: Pi-hole cannot update in place, so a moved record is remove + add.
    ...removals,
    ...wanted.filter((r) => !currentKeys.has(recordKey(r)) && !blockedNames.has(nameOf(r))).map((record): RecordChange => ({ op: 'add', record })),
    ...wanted.filter((r) => currentKeys.has(recordKey(r)) && !owned.has(recordKey(r)) && !blockedNames.has(nameOf(r))).map((record): RecordChange => ({ op: 'own', record })),
    ...[...owned].filter((key) => !currentKeys.has(key) && !wantedKeys.has(key)).sort().map((key): RecordChange => ({ op: 'forget', key })),
    ...[...blockedNames].sort().map((name): RecordChange => ({ op: 'conflict', name, wanted: wantedByName.get(name)!, foreign: blocking.filter((e) => nameOf(e.record) === name) })),
  ]
}

/** One line per change, for the runner's output. */
export function describeRecordChange(change: RecordChange): string {
  switch (change.op) {
    case 'add':
      return `add ${describeRecord(change.record)}`
    case 'remove':
      return `remove ${describeRecord(change.entry.record)} (${change.why})`
    case 'own':
      return `adopt ${describeRecord(change.record)} (already on the Pi-hole, exactly as wanted)`
    case 'forget':
      return `forget ${change.key} (owned, but gone from the Pi-hole)`
    case 'conflict':
      return `leave ${change.name} alone: not ours (${change.foreign.map((e) => JSON.stringify(e.stored)).join(', ')}), wanted ${describeRecord(change.wanted)}`
  }
}

/** Owned records whose names are no longer wanted: kept by sync, removed by prune. */
export function unwantedOwned(current: readonly PiholeEntry[], wanted: readonly DnsRecord[], owned: ReadonlySet<string>): PiholeEntry[] {
  const names = new Set(wanted.map(nameOf))
  return current.filter((e) => owned.has(recordKey(e.record)) && !names.has(nameOf(e.record)))
}
