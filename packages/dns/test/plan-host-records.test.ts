import { test } from 'uvu'
import * as assert from 'uvu/assert'
import { describeRecordChange, isToolShaped, parseHostEntry, planHostRecords, recordKey, servedByOthers, type DnsRecord, type PiholeEntry, type PlanOptions, type RecordChange } from '../src/index.js'

const IP = '192.0.2.10'
const a = (name: string, ip = IP): DnsRecord => ({ type: 'A', name, ip })
const cname = (name: string, target: string): DnsRecord => ({ type: 'CNAME', name, target })
const entry = (stored: string): PiholeEntry => parseHostEntry(stored)[0]!
const cnameEntry = (name: string, target: string): PiholeEntry => ({ record: cname(name, target), stored: `${name},${target}`, shared: false })
const owned = (...records: DnsRecord[]) => new Set(records.map(recordKey))
const NAS = entry('10.0.0.9 nas.homelab.local')
const SHARED = entry(`${IP} registry.homelab.local nas.homelab.local`)
const sync = { adopt: false, prune: false }

type Case = [string, PiholeEntry[], DnsRecord[], Set<string>, PlanOptions, RecordChange[]]
const cases: Case[] = [
  ['nothing there: adds every wanted record', [], [a('registry.homelab.local')], owned(), sync, [{ op: 'add', record: a('registry.homelab.local') }]],
  ['converged: no change', [entry(`${IP} registry.homelab.local`)], [a('registry.homelab.local')], owned(a('registry.homelab.local')), sync, []],
  ['a foreign record for another name is never touched, even by prune', [NAS], [], owned(), { adopt: false, prune: true }, []],
  ['the wanted record already there but not owned: adopted without a write', [entry(`${IP} registry.homelab.local`)], [a('registry.homelab.local')], owned(), sync, [{ op: 'own', record: a('registry.homelab.local') }]],
  [
    'an owned record with a new address: remove, then add',
    [entry('192.0.2.99 registry.homelab.local')], [a('registry.homelab.local')], owned(a('registry.homelab.local', '192.0.2.99')), sync,
    [{ op: 'remove', entry: entry('192.0.2.99 registry.homelab.local'), why: 'moved' }, { op: 'add', record: a('registry.homelab.local') }],
  ],
  [
    'a foreign record with another address on a wanted name: the name is left alone',
    [entry('10.0.0.5 registry.homelab.local')], [a('registry.homelab.local'), a('localstack.homelab.local')], owned(), sync,
    [{ op: 'add', record: a('localstack.homelab.local') }, { op: 'conflict', name: 'registry.homelab.local', wanted: a('registry.homelab.local'), foreign: [entry('10.0.0.5 registry.homelab.local')] }],
  ],
  [
    '--adopt takes the foreign record over',
    [entry('10.0.0.5 registry.homelab.local')], [a('registry.homelab.local')], owned(), { adopt: true, prune: false },
    [{ op: 'remove', entry: entry('10.0.0.5 registry.homelab.local'), why: 'taken over' }, { op: 'add', record: a('registry.homelab.local') }],
  ],
  [
    '--adopt cannot take over an entry that names other hosts too',
    [entry('10.0.0.5 registry.homelab.local other.homelab.local')], [a('registry.homelab.local')], owned(), { adopt: true, prune: false },
    [{ op: 'conflict', name: 'registry.homelab.local', wanted: a('registry.homelab.local'), foreign: [entry('10.0.0.5 registry.homelab.local other.homelab.local')] }],
  ],
  ['sync keeps an owned record no longer wanted', [entry(`${IP} old.homelab.local`)], [], owned(a('old.homelab.local')), sync, []],
  ['prune removes an owned record no longer wanted', [entry(`${IP} old.homelab.local`)], [], owned(a('old.homelab.local')), { adopt: false, prune: true }, [{ op: 'remove', entry: entry(`${IP} old.homelab.local`), why: 'unwanted' }]],
  ['an owned record gone from the Pi-hole and not wanted is forgotten', [], [], owned(a('old.homelab.local')), sync, [{ op: 'forget', key: recordKey(a('old.homelab.local')) }]],
  ['an owned record gone from the Pi-hole but wanted is added again', [], [a('registry.homelab.local')], owned(a('registry.homelab.local')), sync, [{ op: 'add', record: a('registry.homelab.local') }]],
  [
    'an owned record respelled on the Pi-hole (case, trailing dot) is no longer ours: forgotten, kept, nothing added',
    [entry(`${IP} REGISTRY.homelab.local.`)], [a('registry.homelab.local')], owned(a('registry.homelab.local')), sync,
    [{ op: 'forget', key: recordKey(a('registry.homelab.local')) }],
  ],
  [
    'an owned record stored with extra spaces (FTL 6.2 keeps what it was sent) is not what the tool wrote: forgotten, kept',
    [entry(`${IP}   registry.homelab.local`)], [a('registry.homelab.local')], owned(a('registry.homelab.local')), sync,
    [{ op: 'forget', key: recordKey(a('registry.homelab.local')) }],
  ],
  [
    'a wanted record inside an entry naming other hosts too is neither adopted nor added',
    [SHARED], [a('registry.homelab.local')], owned(), sync, [],
  ],
  [
    'teardown (prune, nothing wanted) never removes an entry naming other hosts, even one listed as owned',
    [SHARED], [], owned(a('registry.homelab.local')), { adopt: false, prune: true }, [{ op: 'forget', key: recordKey(a('registry.homelab.local')) }],
  ],
  [
    'a moved record with the user\'s copy spelled differently beside it: the copy is not ours, so the name stops there',
    [entry('192.0.2.99 registry.homelab.local'), entry('192.0.2.99 Registry.homelab.local.')], [a('registry.homelab.local')], owned(a('registry.homelab.local', '192.0.2.99')), { adopt: false, prune: false },
    [{ op: 'conflict', name: 'registry.homelab.local', wanted: a('registry.homelab.local'), foreign: [entry('192.0.2.99 Registry.homelab.local.')] }],
  ],
  [
    'prune removes only the entry the tool wrote, not the user\'s copy spelled differently',
    [entry(`${IP} old.homelab.local`), entry(`${IP} Old.homelab.local.`)], [], owned(a('old.homelab.local')), { adopt: false, prune: true },
    [{ op: 'remove', entry: entry(`${IP} old.homelab.local`), why: 'unwanted' }],
  ],
  [
    '--adopt removes nothing on a name it cannot take over (an entry there names other hosts too)',
    [entry('10.0.0.5 registry.homelab.local'), entry('10.0.0.6 registry.homelab.local other.homelab.local')], [a('registry.homelab.local')], owned(), { adopt: true, prune: false },
    [{ op: 'conflict', name: 'registry.homelab.local', wanted: a('registry.homelab.local'), foreign: [entry('10.0.0.6 registry.homelab.local other.homelab.local')] }],
  ],
  [
    '--adopt replaces a single-name entry spelled differently with the tool\'s own',
    [entry(`${IP} Registry.homelab.local`)], [a('registry.homelab.local')], owned(), { adopt: true, prune: false },
    [{ op: 'remove', entry: entry(`${IP} Registry.homelab.local`), why: 'taken over' }, { op: 'add', record: a('registry.homelab.local') }],
  ],
  [
    'records: cname with a foreign ingress host: no CNAME is pointed at it',
    [entry('10.0.0.50 ingress.homelab.local')], [a('ingress.homelab.local'), cname('registry.homelab.local', 'ingress.homelab.local')], owned(), sync,
    [
      { op: 'conflict', name: 'ingress.homelab.local', wanted: a('ingress.homelab.local'), foreign: [entry('10.0.0.50 ingress.homelab.local')] },
      { op: 'conflict', name: 'registry.homelab.local', wanted: cname('registry.homelab.local', 'ingress.homelab.local'), foreign: [entry('10.0.0.50 ingress.homelab.local')], via: 'ingress.homelab.local' },
    ],
  ],
  [
    'CNAMEs an earlier run stored but never served: a restart, even with nothing else to do',
    [cnameEntry('registry.homelab.local', 'ingress.homelab.local'), entry(`${IP} ingress.homelab.local`)], [a('ingress.homelab.local'), cname('registry.homelab.local', 'ingress.homelab.local')],
    owned(a('ingress.homelab.local'), cname('registry.homelab.local', 'ingress.homelab.local')), { adopt: false, prune: false, restartPending: true },
    [{ op: 'restart' }],
  ],
  [
    'switching to CNAMEs: the owned A record goes, the CNAME comes',
    [entry(`${IP} registry.homelab.local`)], [a('ingress.homelab.local'), cname('registry.homelab.local', 'ingress.homelab.local')], owned(a('registry.homelab.local')), sync,
    [{ op: 'remove', entry: entry(`${IP} registry.homelab.local`), why: 'moved' }, { op: 'add', record: a('ingress.homelab.local') }, { op: 'add', record: cname('registry.homelab.local', 'ingress.homelab.local') }],
  ],
  [
    'a foreign CNAME on a wanted A name is a conflict too',
    [cnameEntry('registry.homelab.local', 'elsewhere.example')], [a('registry.homelab.local')], owned(), sync,
    [{ op: 'conflict', name: 'registry.homelab.local', wanted: a('registry.homelab.local'), foreign: [cnameEntry('registry.homelab.local', 'elsewhere.example')] }],
  ],
]

for (const [name, current, wanted, own, options, expected] of cases) {
  test(name, () => assert.equal(planHostRecords(current, wanted, own, options), expected))
}

test('only a single-name entry in lowercase with one space and no TTL is shaped as the tool writes it', () => {
  assert.ok(isToolShaped(entry(`${IP} registry.homelab.local`)))
  assert.ok(isToolShaped(cnameEntry('registry.homelab.local', 'ingress.homelab.local')))
  for (const stored of [`${IP}  registry.homelab.local`, `${IP} Registry.homelab.local`, `${IP} registry.homelab.local.`, `${IP} registry.homelab.local # hand`, `${IP} registry.homelab.local nas.homelab.local`]) {
    assert.not.ok(isToolShaped(entry(stored)), stored)
  }
  assert.not.ok(isToolShaped({ record: cname('registry.homelab.local', 'ingress.homelab.local'), stored: 'registry.homelab.local,ingress.homelab.local,300', shared: false }))
})

test('wanted names answered by entries the tool leaves alone are listed (not with --adopt for a single-name one)', () => {
  const respelled = entry(`${IP} Registry.homelab.local`)
  const wanted = [a('registry.homelab.local')]
  assert.equal(servedByOthers([SHARED, respelled, NAS], wanted, owned(), false), [SHARED, respelled])
  assert.equal(servedByOthers([SHARED, respelled, NAS], wanted, owned(), true), [SHARED])
})

test('a conflict through a CNAME\'s target and a pending restart read as what they mean', () => {
  const [, viaTarget] = planHostRecords([entry('10.0.0.50 ingress.homelab.local')], [a('ingress.homelab.local'), cname('registry.homelab.local', 'ingress.homelab.local')], owned(), sync)
  assert.is(describeRecordChange(viaTarget!), 'leave registry.homelab.local alone: its target ingress.homelab.local is not ours ("10.0.0.50 ingress.homelab.local"), wanted CNAME registry.homelab.local → ingress.homelab.local')
  assert.is(describeRecordChange({ op: 'restart' }), 'restart DNS: CNAME changes of an earlier run are stored but not served yet')
})

test('a stored entry with several names and a comment parses into one shared entry per name', () => {
  const entries = parseHostEntry('10.0.0.4  a.homelab.local b.homelab.local # by hand')
  assert.equal(entries.map((e) => [e.record, e.shared, e.stored]), [
    [a('a.homelab.local', '10.0.0.4'), true, '10.0.0.4  a.homelab.local b.homelab.local # by hand'],
    [a('b.homelab.local', '10.0.0.4'), true, '10.0.0.4  a.homelab.local b.homelab.local # by hand'],
  ])
})

test.run()
