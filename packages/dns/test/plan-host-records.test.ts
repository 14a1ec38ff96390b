import { test } from 'uvu'
import * as assert from 'uvu/assert'
import { parseHostEntry, planHostRecords, recordKey, type DnsRecord, type PiholeEntry, type RecordChange } from '../src/index.js'

const IP = '192.0.2.10'
const a = (name: string, ip = IP): DnsRecord => ({ type: 'A', name, ip })
const cname = (name: string, target: string): DnsRecord => ({ type: 'CNAME', name, target })
const entry = (stored: string): PiholeEntry => parseHostEntry(stored)[0]!
const cnameEntry = (name: string, target: string): PiholeEntry => ({ record: cname(name, target), stored: `${name},${target}`, shared: false })
const owned = (...records: DnsRecord[]) => new Set(records.map(recordKey))
const NAS = entry('10.0.0.9 nas.homelab.local')
const sync = { adopt: false, prune: false }

type Case = [string, PiholeEntry[], DnsRecord[], Set<string>, typeof sync, RecordChange[]]
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
  ['names compare without case or trailing dot', [entry(`${IP} REGISTRY.homelab.local.`)], [a('registry.homelab.local')], owned(a('registry.homelab.local')), sync, []],
  ['extra spaces in a stored entry (FTL 6.2) still match', [entry(`${IP}   registry.homelab.local`)], [a('registry.homelab.local')], owned(a('registry.homelab.local')), sync, []],
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

test('a stored entry with several names and a comment parses into one shared entry per name', () => {
  const entries = parseHostEntry('10.0.0.4  a.homelab.local b.homelab.local # by hand')
  assert.equal(entries.map((e) => [e.record, e.shared, e.stored]), [
    [a('a.homelab.local', '10.0.0.4'), true, '10.0.0.4  a.homelab.local b.homelab.local # by hand'],
    [a('b.homelab.local', '10.0.0.4'), true, '10.0.0.4  a.homelab.local b.homelab.local # by hand'],
  ])
})

test.run()
