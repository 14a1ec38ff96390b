import type { Step, StepContext } from '@homelab/core'
import { describeRecord, recordKey, type DnsRecord, type PiholeEntry } from './dns-record.js'
import type { DnsOwnership, OwnershipChange } from './dns-ownership.js'
import { DnsConflictError } from './errors/dns-conflict-error.js'
import { describeRecordChange, planHostRecords, servedByOthers, unwantedOwned, type RecordChange } from './plan-host-records.js'
import type { PiholeConnector } from './pihole-connector.js'
import type { PiholeSession } from './pihole-client.js'

export type RecordsSnapshot = { current: PiholeEntry[]; owned: Set<string>; restartPending: boolean }

export type DnsRecordsStepOptions = {
  pihole: PiholeConnector
  ownership: DnsOwnership
  /** Read when the step runs: the ingress address is found by an earlier step. */
  wanted: () => DnsRecord[]
  adopt: boolean
  prune: boolean
  needs?: readonly string[]
}

/** The records of one Pi-hole, converged: only owned records are changed; foreign ones on wanted names stop those names. */
export function dnsRecordsStep(options: DnsRecordsStepOptions): Step<RecordsSnapshot, RecordChange, DnsRecord[]> {
  const { pihole, ownership } = options
  // Names someone else's records hold: the rest is applied, then the step fails naming them.
  const refusal = (changes: RecordChange[]) => {
    const conflicts = changes.filter((c): c is Extract<RecordChange, { op: 'conflict' }> => c.op === 'conflict')
    return conflicts.length > 0 ? conflictError(pihole, conflicts) : undefined
  }
  return {
    name: `dns records on ${pihole.label}`,
    ...(options.needs ? { needs: options.needs } : {}),
    async check(ctx) {
      warnInsecure(pihole, ctx)
      const wanted = options.wanted()
      const { owned, restartPending } = await ownership.read(pihole.url)
      // Nothing wanted and nothing of ours there (teardown, where this Pi-hole never got a record): nothing to read, so
      // no login, and a Pi-hole that is gone for good, or down, does not hold the rest back.
      if (wanted.length === 0 && owned.size === 0 && !restartPending) return { current: [], owned, restartPending }
      const current = await pihole.withSession((session) => session.list())
      const leftOver = options.prune ? [] : unwantedOwned(current, wanted, owned)
      if (leftOver.length > 0) ctx.warn(`${leftOver.length} record(s) this tool made are no longer wanted (${leftOver.map((e) => describeRecord(e.record)).join(', ')}); \`pnpm --filter dns run prune\` removes them`)
      for (const entry of servedByOthers(current, wanted, owned, options.adopt)) {
        const why = entry.shared ? 'it names other hosts too: edit it on the Pi-hole when the address changes' : '`sync --adopt` replaces it with the tool\'s own'
        ctx.warn(`${entry.record.name} is answered by ${JSON.stringify(entry.stored)}, an entry this tool did not write: it is left as it is and never changed (${why})`)
      }
      return { current, owned, restartPending }
    },
    desired: () => options.wanted(),
    diff: (snapshot, wanted) => planHostRecords(snapshot.current, wanted, snapshot.owned, { adopt: options.adopt, prune: options.prune, restartPending: snapshot.restartPending }),
    describe: (change) => ({ summary: describeRecordChange(change) }),
    refusal,
    async apply(changes) {
      await applyRecordChanges(options, changes)
      const refused = refusal(changes)
      if (refused) throw refused
    },
  }
}

function warnInsecure(pihole: PiholeConnector, ctx: StepContext): void {
  if (pihole.pihole.insecureSkipTlsVerify && pihole.url.startsWith('https:')) {
    ctx.warn(`TLS verification is off for ${pihole.url} (${pihole.configKey}.insecureSkipTlsVerify): anyone in between could read the Pi-hole password; prefer ${pihole.configKey}.ca`)
  }
}

/**
 * Pi-hole writes first, then the owner list, for exactly the writes the Pi-hole accepted. A crash in between
 * converges on the next run: an added record is then found exactly as wanted and adopted, a removed one forgotten.
 * CNAME writes are stored but not served until DNS restarts, so the owner list notes a pending restart before them
 * and clears it only after the restart succeeded: a run whose restart failed or never came leaves it to the next.
 */
async function applyRecordChanges(options: DnsRecordsStepOptions, changes: RecordChange[]): Promise<void> {
  const { ownership, pihole } = options
  const accepted: Accepted = { add: [], remove: [], restartPending: true }
  for (const c of changes) {
    if (c.op === 'own') accepted.add.push(recordKey(c.record))
    if (c.op === 'forget') accepted.remove.push(c.key)
  }
  const writes = changes.filter((c): c is Write => c.op === 'add' || c.op === 'remove')
  const earlierRestart = changes.some((c) => c.op === 'restart')
  const writesCnames = writes.some((c) => (c.op === 'add' ? c.record : c.entry.record).type === 'CNAME')
  if (writesCnames && !earlierRestart) await ownership.update(pihole.url, { add: [], remove: [], restartPending: true })
  let failure: unknown
  try {
    if (writes.length > 0 || earlierRestart) await pihole.withSession((session) => writeChanges(session, writes, accepted, earlierRestart))
  } catch (error) {
    failure = error
  }
  const update: OwnershipChange = writesCnames || earlierRestart ? accepted : { add: accepted.add, remove: accepted.remove }
  // When both fail, the Pi-hole's error is the one to show; the next run repairs the owner list anyway.
  await ownership.update(pihole.url, update).catch((error: unknown) => {
    throw failure ?? error
  })
  if (failure !== undefined) throw failure
}

type Write = Extract<RecordChange, { op: 'add' | 'remove' }>
type Accepted = { add: string[]; remove: string[]; restartPending: boolean }

async function writeChanges(session: PiholeSession, writes: Write[], accepted: Accepted, earlierRestart: boolean): Promise<void> {
  for (const change of writes) {
    if (change.op === 'remove') {
      await session.remove(change.entry)
      accepted.remove.push(recordKey(change.entry.record))
    } else {
      await session.add(change.record)
      accepted.add.push(recordKey(change.record))
    }
  }
  await session.applyPending(earlierRestart)
  accepted.restartPending = false
}

function conflictError(pihole: PiholeConnector, conflicts: Extract<RecordChange, { op: 'conflict' }>[]): DnsConflictError {
  const lines = conflicts.map((c) => `${c.name}: Pi-hole has ${c.foreign.map((e) => JSON.stringify(e.stored)).join(', ')}, not made by this tool; wanted ${describeRecord(c.wanted)}`)
  const shared = conflicts.some((c) => c.foreign.some((e) => e.shared))
  const hint = shared
    ? 'an entry that also names other hosts cannot be taken over: edit it on the Pi-hole by hand'
    : 'remove those records on the Pi-hole, or run sync with --adopt to replace them and own the names'
  return new DnsConflictError(`Pi-hole ${pihole.url}: left ${conflicts.length} name(s) alone:\n${lines.join('\n')}`, { host: pihole.url, names: conflicts.map((c) => c.name), hint })
}
