import { describeRecord, isToolShaped, normaliseName, recordKey, type DnsRecord, type PiholeEntry } from './dns-record.js'

/**
 * One change to a Pi-hole's records or to what the tool owns there.
 * - add / remove: a Pi-hole write (and, after it succeeded, the ownership update);
 * - own: the wanted record is already there, exactly as this tool writes it: it is adopted without a write (this is
 *   also how a run that crashed between the Pi-hole write and the ownership update converges);
 * - forget: an owned record is no longer on the Pi-hole as this tool wrote it: only the bookkeeping changes;
 * - conflict: a wanted name holds records the tool does not own (or, for a CNAME, its target does): the name is left
 *   alone and the step fails;
 * - restart: CNAME changes of an earlier run are stored but not served yet (its `restartdns` failed or never ran).
 */
export type RecordChange =
  | { op: 'add'; record: DnsRecord }
  | { op: 'remove'; entry: PiholeEntry; why: 'moved' | 'unwanted' | 'taken over' }
  | { op: 'own'; record: DnsRecord }
  | { op: 'forget'; key: string }
  | { op: 'conflict'; name: string; wanted: DnsRecord; foreign: PiholeEntry[]; via?: string }
  | { op: 'restart' }

export type PlanOptions = {
  /** Take over foreign records for wanted names (`--adopt`). */
  adopt: boolean
  /** Also remove owned records whose names are no longer wanted (`prune`). */
  prune: boolean
  /** CNAME changes of an earlier run still wait for `restartdns`. */
  restartPending?: boolean
}

const nameOf = (record: DnsRecord) => normaliseName(record.name)

type Sorted = {
  /** Entries the tool wrote: owned, and stored exactly as it writes them. Only these are ever removed as its own. */
  ours: PiholeEntry[]
  /** Entries exactly as the tool would write a wanted record, not owned yet: adopted. */
  adoptable: PiholeEntry[]
  /** Everyone else's entries on wanted names that already say what is wanted: kept as they are, nothing added. */
  servedByOthers: PiholeEntry[]
  /** Everyone else's entries on wanted names that --adopt removes. */
  takenOver: PiholeEntry[]
  /** Everyone else's entries that stop a wanted name (or, for a CNAME, its target). */
  blocking: Map<string, { foreign: PiholeEntry[]; via?: string }>
}

/**
 * Which entries are the tool's and which are in the way. An entry the tool did not write is never removed unless
 * --adopt takes its name over, and never when it also names other hosts: removing it would remove them too.
 */
function sortEntries(current: readonly PiholeEntry[], wanted: readonly DnsRecord[], owned: ReadonlySet<string>, adopt: boolean): Sorted {
  const wantedNames = new Set(wanted.map(nameOf))
  const wantedKeys = new Set(wanted.map(recordKey))
  const ours = current.filter((e) => isToolShaped(e) && owned.has(recordKey(e.record)))
  const adoptable = current.filter((e) => isToolShaped(e) && !owned.has(recordKey(e.record)) && wantedKeys.has(recordKey(e.record)))
  const others = current.filter((e) => !ours.includes(e) && !adoptable.includes(e) && wantedNames.has(nameOf(e.record)))
  const blocking = new Map<string, { foreign: PiholeEntry[]; via?: string }>()
  for (const entry of others.filter((e) => !wantedKeys.has(recordKey(e.record)) && (!adopt || e.shared))) {
    const name = nameOf(entry.record)
    blocking.set(name, { foreign: [...(blocking.get(name)?.foreign ?? []), entry] })
  }
  // A CNAME to a name that is not ours would send its clients wherever that name points.
  for (const record of wanted) {
    const target = record.type === 'CNAME' ? blocking.get(normaliseName(record.target)) : undefined
    if (target && !target.via && !blocking.has(nameOf(record))) blocking.set(nameOf(record), { foreign: target.foreign, via: normaliseName((record as Extract<DnsRecord, { type: 'CNAME' }>).target) })
  }
  const takenOver = adopt ? others.filter((e) => !e.shared && !blocking.has(nameOf(e.record))) : []
  const servedByOthers = others.filter((e) => !takenOver.includes(e) && wantedKeys.has(recordKey(e.record)))
  return { ours, adoptable, servedByOthers, takenOver, blocking }
}

/** Pure. The external-dns idea (current + desired → changes) with an owner list: other people's records always survive. */
export function planHostRecords(current: readonly PiholeEntry[], wanted: readonly DnsRecord[], owned: ReadonlySet<string>, options: PlanOptions): RecordChange[] {
  const { ours, adoptable, servedByOthers, takenOver, blocking } = sortEntries(current, wanted, owned, options.adopt)
  const wantedByName = new Map(wanted.map((r) => [nameOf(r), r]))
  const wantedKeys = new Set(wanted.map(recordKey))
  const keysOf = (entries: readonly PiholeEntry[]) => new Set(entries.map((e) => recordKey(e.record)))
  const present = keysOf([...ours, ...adoptable, ...servedByOthers])
  const removals = [
    ...ours.flatMap((entry): RecordChange[] => {
      const name = nameOf(entry.record)
      if (!wantedKeys.has(recordKey(entry.record)) && wantedByName.has(name) && !blocking.has(name)) return [{ op: 'remove', entry, why: 'moved' }]
      if (!wantedByName.has(name) && options.prune) return [{ op: 'remove', entry, why: 'unwanted' }]
      return []
    }),
    ...takenOver.map((entry): RecordChange => ({ op: 'remove', entry, why: 'taken over' })),
  ]
  const adds = wanted.filter((r) => !present.has(recordKey(r)) && !blocking.has(nameOf(r)))
  const addedKeys = new Set(adds.map(recordKey))
  const ourKeys = keysOf(ours)
  return [
    // Removals first: Pi-hole cannot update in place, so a moved record is remove + add.
    ...removals,
    ...adds.map((record): RecordChange => ({ op: 'add', record })),
    ...adoptable.filter((e) => !blocking.has(nameOf(e.record))).map((e): RecordChange => ({ op: 'own', record: e.record })),
    ...[...owned].filter((key) => !ourKeys.has(key) && !addedKeys.has(key)).sort().map((key): RecordChange => ({ op: 'forget', key })),
    ...[...blocking.keys()].sort().map((name): RecordChange => {
      const { foreign, via } = blocking.get(name)!
      return { op: 'conflict', name, wanted: wantedByName.get(name)!, foreign, ...(via ? { via } : {}) }
    }),
    ...(options.restartPending ? [{ op: 'restart' } as const] : []),
  ]
}

/**
 * Wanted names already answered by entries the tool did not write and leaves alone (an entry that also names other
 * hosts, or a spelling of the name other than the tool's). Nothing is added for them, and the tool never changes them.
 */
export function servedByOthers(current: readonly PiholeEntry[], wanted: readonly DnsRecord[], owned: ReadonlySet<string>, adopt: boolean): PiholeEntry[] {
  return sortEntries(current, wanted, owned, adopt).servedByOthers
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
      return `forget ${change.key} (owned, but no longer on the Pi-hole as this tool wrote it)`
    case 'conflict':
      return change.via
        ? `leave ${change.name} alone: its target ${change.via} is not ours (${foreignText(change.foreign)}), wanted ${describeRecord(change.wanted)}`
        : `leave ${change.name} alone: not ours (${foreignText(change.foreign)}), wanted ${describeRecord(change.wanted)}`
    case 'restart':
      return 'restart DNS: CNAME changes of an earlier run are stored but not served yet'
  }
}

const foreignText = (entries: readonly PiholeEntry[]) => entries.map((e) => JSON.stringify(e.stored)).join(', ')

/** Owned records whose names are no longer wanted: kept by sync, removed by prune. */
export function unwantedOwned(current: readonly PiholeEntry[], wanted: readonly DnsRecord[], owned: ReadonlySet<string>): PiholeEntry[] {
  const names = new Set(wanted.map(nameOf))
  return current.filter((e) => isToolShaped(e) && owned.has(recordKey(e.record)) && !names.has(nameOf(e.record)))
}
