import { suite } from 'uvu'
import * as assert from 'uvu/assert'
import { parse } from 'yaml'
import { Secret, StepSkipped } from '@homelab/core'
import { classifyPullFailure, describeNodeTrustChange, NodeRolloutError, planNodeTrust, planRegistryHostRecord, RestartRollout, maskRegistryCredentials, mergeRegistriesYaml, readyAfterRestart, RegistriesYamlError, retiredHostsLeft, type RegistryTrust } from '../src/index.js'

const trust: RegistryTrust = {
  registryHost: 'registry.homelab.local',
  username: 'admin',
  password: new Secret('s3cret-pass-word'),
  caPath: '/etc/rancher/k3s/registry-ca.crt',
  withCa: true,
  dockerHubMirror: false,
}
const where = { host: 'node1', path: '/etc/rancher/k3s/registries.yaml' }

const OURS = {
  mirrors: { 'registry.homelab.local': { endpoint: ['https://registry.homelab.local'] } },
  configs: { 'registry.homelab.local': { auth: { username: 'admin', password: 's3cret-pass-word' }, tls: { ca_file: '/etc/rancher/k3s/registry-ca.crt' } } },
}

const Merge = suite('mergeRegistriesYaml')

const cases: [string, string | undefined, RegistryTrust, unknown][] = [
  ['no file: mirror and configs keyed by the endpoint host', undefined, trust, OURS],
  ['empty file', '', trust, OURS],
  ['a bare `mirrors:` key becomes a map', 'mirrors:\n', trust, OURS],
  [
    'another mirror and config are kept',
    'mirrors:\n  quay.io:\n    endpoint: ["https://quay-mirror.lan"]\nconfigs:\n  quay-mirror.lan:\n    tls:\n      insecure_skip_verify: true\n',
    trust,
    {
      mirrors: { 'quay.io': { endpoint: ['https://quay-mirror.lan'] }, ...OURS.mirrors },
      configs: { 'quay-mirror.lan': { tls: { insecure_skip_verify: true } }, ...OURS.configs },
    },
  ],
  [
    'an old password is replaced, a tls key of the node kept',
    'configs:\n  registry.homelab.local:\n    auth: {username: admin, password: old}\n    tls:\n      insecure_skip_verify: false\n',
    trust,
    { configs: { 'registry.homelab.local': { auth: { username: 'admin', password: 's3cret-pass-word' }, tls: { insecure_skip_verify: false, ca_file: trust.caPath } } }, mirrors: OURS.mirrors },
  ],
  ['docker.io through the registry when asked', undefined, { ...trust, dockerHubMirror: true }, { ...OURS, mirrors: { ...OURS.mirrors, 'docker.io': { endpoint: ['https://registry.homelab.local'] } } }],
  [
    'docker.io: ours first, the node\'s own endpoints kept after it',
    'mirrors:\n  docker.io:\n    endpoint:\n      - "https://mirror.gcr.io"\n      - "https://registry.homelab.local"\n      - "https://dockerhub-cache.lan:5000"\n',
    { ...trust, dockerHubMirror: true },
    { mirrors: { 'docker.io': { endpoint: ['https://registry.homelab.local', 'https://mirror.gcr.io', 'https://dockerhub-cache.lan:5000'] }, ...OURS.mirrors }, configs: OURS.configs },
  ],
  [
    'tls.mode acme: no ca_file, and the one this tool set in ca mode is taken out with its empty tls map',
    'mirrors:\n  registry.homelab.local:\n    endpoint: ["https://registry.homelab.local"]\nconfigs:\n  registry.homelab.local:\n    auth: {username: admin, password: s3cret-pass-word}\n    tls:\n      ca_file: /etc/rancher/k3s/registry-ca.crt\n',
    { ...trust, withCa: false },
    { mirrors: OURS.mirrors, configs: { 'registry.homelab.local': { auth: OURS.configs['registry.homelab.local'].auth } } },
  ],
  [
    'tls.mode acme: a ca_file and tls settings the node has of its own stay',
    'configs:\n  registry.homelab.local:\n    tls:\n      ca_file: /etc/ssl/corp-root.pem\n      insecure_skip_verify: false\n',
    { ...trust, withCa: false },
    { configs: { 'registry.homelab.local': { tls: { ca_file: '/etc/ssl/corp-root.pem', insecure_skip_verify: false }, auth: OURS.configs['registry.homelab.local'].auth } }, mirrors: OURS.mirrors },
  ],
]

for (const [name, current, want, expected] of cases) {
  Merge(name, () => assert.equal(parse(mergeRegistriesYaml(current, want, where)), expected))
}

Merge('comments and the order of other keys survive', () => {
  const current = '# managed by hand, ask Kim\nmirrors:\n  quay.io: # our quay cache\n    endpoint:\n      - https://quay-mirror.lan\n'
  const merged = mergeRegistriesYaml(current, trust, where)
  // yaml keeps the comment but moves a trailing one onto its own line: that is as much as the library can keep.
  assert.ok(merged.startsWith('# managed by hand, ask Kim\nmirrors:\n  quay.io:\n    # our quay cache\n    endpoint:\n      - https://quay-mirror.lan\n'), merged)
  assert.ok(merged.indexOf('quay.io') < merged.indexOf('registry.homelab.local'), 'their mirror stays first')
})

Merge('merging its own output again gives the same bytes', () => {
  for (const [, current, want] of cases) {
    const once = mergeRegistriesYaml(current, want, where)
    assert.is(mergeRegistriesYaml(once, want, where), once)
  }
})

const CA = Buffer.from('-----BEGIN CERTIFICATE-----\nX\n-----END CERTIFICATE-----\n')
const material = { trust, caPem: CA, caSource: 'Secret t/root-ca' }
const planOptions = { host: 'node1', registriesYamlPath: where.path, caPath: trust.caPath, unit: 'k3s' as const }

const Retire = suite('retired registry hosts')

// The registry moved from registry.homelab.local to registry.home.arpa (a new `domain`).
const NEW_HOST = 'registry.home.arpa'
const moved: RegistryTrust = { ...trust, registryHost: NEW_HOST, retiredHosts: ['registry.homelab.local'] }
const NEW = {
  mirrors: { [NEW_HOST]: { endpoint: [`https://${NEW_HOST}`] } },
  configs: { [NEW_HOST]: { auth: { username: 'admin', password: 's3cret-pass-word' }, tls: { ca_file: trust.caPath } } },
}
const written = (t: RegistryTrust) => mergeRegistriesYaml(undefined, t, where)
const oldWith = (edit: (old: typeof OURS) => void) => {
  const old = structuredClone(OURS)
  edit(old)
  return JSON.stringify(old)
}
const OTHER = 'mirrors:\n  quay.io:\n    endpoint: ["https://quay-mirror.lan"]\nconfigs:\n  quay-mirror.lan:\n    auth: {username: me, password: mine}\n'

const retireCases: [string, string | undefined, RegistryTrust, unknown, string[]][] = [
  ['the old host\'s entries, as node-trust wrote them, go; the new host\'s come in', written(trust), moved, NEW, []],
  ['an old entry written in tls.mode acme (no tls) goes too', written({ ...trust, withCa: false }), moved, NEW, []],
  [
    'another registry is left exactly as it was',
    mergeRegistriesYaml(OTHER, trust, where),
    moved,
    { mirrors: { 'quay.io': { endpoint: ['https://quay-mirror.lan'] }, ...NEW.mirrors }, configs: { 'quay-mirror.lan': { auth: { username: 'me', password: 'mine' } }, ...NEW.configs } },
    [],
  ],
  [
    'an old mirror with an endpoint added by hand stays, its config with it, and is named',
    oldWith((o) => o.mirrors['registry.homelab.local'].endpoint.push('https://backup.lan')),
    moved,
    { mirrors: { 'registry.homelab.local': { endpoint: ['https://registry.homelab.local', 'https://backup.lan'] }, ...NEW.mirrors }, configs: { ...OURS.configs, ...NEW.configs } },
    ['registry.homelab.local'],
  ],
  [
    'an old config with a key of someone else\'s stays and is named',
    oldWith((o) => Object.assign(o.configs['registry.homelab.local'].tls, { insecure_skip_verify: true })),
    moved,
    { mirrors: { ...OURS.mirrors, ...NEW.mirrors }, configs: { 'registry.homelab.local': { ...OURS.configs['registry.homelab.local'], tls: { ca_file: trust.caPath, insecure_skip_verify: true } }, ...NEW.configs } },
    ['registry.homelab.local'],
  ],
  [
    'an old config trusting another CA file stays and is named',
    oldWith((o) => (o.configs['registry.homelab.local'].tls.ca_file = '/etc/ssl/corp.pem')),
    moved,
    { mirrors: { ...OURS.mirrors, ...NEW.mirrors }, configs: { 'registry.homelab.local': { ...OURS.configs['registry.homelab.local'], tls: { ca_file: '/etc/ssl/corp.pem' } }, ...NEW.configs } },
    ['registry.homelab.local'],
  ],
  ['no record (no retired hosts): the old entries stay, nothing is guessed', written(trust), { ...moved, retiredHosts: undefined }, { mirrors: { ...OURS.mirrors, ...NEW.mirrors }, configs: { ...OURS.configs, ...NEW.configs } }, []],
  [
    'docker.io: the old endpoint leaves, the new one goes first, the node\'s own stays',
    mergeRegistriesYaml('mirrors:\n  docker.io:\n    endpoint: ["https://mirror.gcr.io"]\n', { ...trust, dockerHubMirror: true }, where),
    { ...moved, dockerHubMirror: true },
    { mirrors: { 'docker.io': { endpoint: [`https://${NEW_HOST}`, 'https://mirror.gcr.io'] }, ...NEW.mirrors }, configs: NEW.configs },
    [],
  ],
]

for (const [name, current, want, expected, left] of retireCases) {
  Retire(name, () => {
    assert.equal(parse(mergeRegistriesYaml(current, want, where)), expected)
    assert.equal(retiredHostsLeft(current, want, where), left)
  })
}

// A node added after the rename, or one whose file never had both sections: nothing to take out, and no crash.
for (const [name, current] of [['no file', undefined], ['an empty file', ''], ['comments only', '# by hand\n'], ['mirrors: alone', 'mirrors:\n'], ['no configs section', 'mirrors:\n  docker.io:\n    endpoint: ["https://mirror.gcr.io"]\n']] as [string, string | undefined][]) {
  Retire(`a retired host recorded, a node file with ${name}: merged like any other`, () => {
    const merged = parse(mergeRegistriesYaml(current, moved, where)) as { mirrors: Record<string, unknown>; configs: Record<string, unknown> }
    assert.equal(merged.configs, NEW.configs)
    assert.equal(merged.mirrors[NEW_HOST], NEW.mirrors[NEW_HOST])
    assert.equal(retiredHostsLeft(current, moved, where), [])
  })
}

Retire('a node already cleaned of the old host and holding the new one needs nothing', () => {
  const once = mergeRegistriesYaml(written(trust), moved, where)
  assert.equal(planNodeTrust({ registriesYaml: once, ca: CA, restartPending: false }, { trust: moved, caPem: CA, caSource: 's' }, planOptions), [])
})

Retire('removing the old host is a write and a restart, and its diff shows no password', () => {
  const changes = planNodeTrust({ registriesYaml: written(trust), ca: CA, restartPending: false }, { trust: moved, caPem: CA, caSource: 's' }, planOptions)
  assert.equal(changes.map((c) => c.op), ['write', 'restart'])
  const view = describeNodeTrustChange(changes[0]!, 'node1')
  assert.match(view.before ?? '', /registry\.homelab\.local/)
  assert.not.match(view.after ?? '', /registry\.homelab\.local/)
  assert.not.ok(`${view.before}${view.after}`.includes('s3cret-pass-word'), 'the password is in the diff')
})

const recordCases: [string, string[] | undefined, { add: string[]; drop: string[] }, string[] | undefined][] = [
  ['no record: created with the wanted host only', undefined, { add: ['b'], drop: [] }, ['b']],
  ['the wanted host already recorded: nothing to write', ['b'], { add: ['b'], drop: [] }, undefined],
  ['a new host is added, the old one kept until the nodes are clean', ['a'], { add: ['b'], drop: [] }, ['a', 'b']],
  ['a cleaned-up host is dropped', ['a', 'b'], { add: [], drop: ['a'] }, ['b']],
  ['stored in another order: the same hosts, nothing to write', ['b', 'a'], { add: ['a'], drop: [] }, undefined],
]
for (const [name, recorded, change, after] of recordCases) {
  Retire(`record: ${name}`, () => assert.equal(planRegistryHostRecord(recorded, change), after === undefined ? [] : [{ op: 'record', before: recorded, after }]))
}

const Plan = suite('planNodeTrust')

const ops = (registriesYaml: string) => planNodeTrust({ registriesYaml, ca: CA, restartPending: false }, material, planOptions).map((c) => (c.op === 'write' ? `write ${c.path}` : `restart ${c.unit}`))

Plan('tls.mode acme: no CA file is written; a file already right needs nothing', () => {
  const acme = { trust: { ...trust, withCa: false }, caPem: undefined, caSource: 'the system trust store (tls.mode acme)' }
  const plan = (registriesYaml: string | undefined) => planNodeTrust({ registriesYaml, ca: undefined, restartPending: false }, acme, planOptions)
  assert.equal(plan(undefined).map((c) => (c.op === 'write' ? `write ${c.path}` : `restart ${c.unit}`)), [`write ${where.path}`, 'restart k3s'])
  const written = mergeRegistriesYaml(undefined, acme.trust, where)
  assert.not.match(written, /ca_file/)
  assert.equal(plan(written), [])
})

const AUTH = (indent: string, nl: string, password = 's3cret-pass-word') =>
  [`configs:`, `${indent}registry.homelab.local:`, `${indent}${indent}auth:`, `${indent}${indent}${indent}username: admin`, `${indent}${indent}${indent}password: ${password}`, `${indent}${indent}tls:`, `${indent}${indent}${indent}ca_file: /etc/rancher/k3s/registry-ca.crt`].join(nl)
const MIRROR = (indent: string, nl: string) => [`mirrors:`, `${indent}registry.homelab.local:`, `${indent}${indent}endpoint:`, `${indent}${indent}- "https://registry.homelab.local"`].join(nl)

const sameValues: [string, string][] = [
  ['four-space indent', `${MIRROR('    ', '\n')}\n${AUTH('    ', '\n')}\n`],
  ['no final newline', `${MIRROR('  ', '\n')}\n${AUTH('  ', '\n')}`],
  ['CRLF line endings', `${MIRROR('  ', '\r\n')}\r\n${AUTH('  ', '\r\n')}\r\n`],
  ['a leading document marker', `---\n${MIRROR('  ', '\n')}\n${AUTH('  ', '\n')}\n`],
  ['configs before mirrors, quoted keys', `${AUTH('  ', '\n').replace('registry.homelab.local:', '"registry.homelab.local":')}\n${MIRROR('  ', '\n')}\n`],
]
for (const [name, text] of sameValues) {
  Plan(`a file already right but formatted differently (${name}) is neither rewritten nor restarted`, () => assert.equal(ops(text), []))
}

Plan('a differently formatted file with an old password is rewritten and restarted', () => {
  assert.equal(ops(`${MIRROR('    ', '\n')}\n${AUTH('    ', '\n', 'old')}\n`), [`write ${where.path}`, 'restart k3s'])
})

const refusals: [string, string, RegExp][] = [
  ['an unclosed flow sequence names line and column', 'mirrors:\n  quay.io:\n    endpoint: [https://x\n', /does not parse at line \d+, column \d+/],
  ['a bad indentation names line and column', 'mirrors:\n  a: 1\n b: 2\n', /does not parse at line 3, column \d+/],
  ['a YAML bomb is refused by alias count', `a: &a [x, x, x, x, x, x, x, x, x]\nb: &b [${'*a, '.repeat(9)}*a]\nc: &c [${'*b, '.repeat(9)}*b]\nd: [${'*c, '.repeat(200)}*c]\n`, /expands too many aliases/],
  ['a file over the size cap is refused', `# ${'x'.repeat(1024 * 1024)}\n`, /over the 1048576-byte limit/],
  ['a top-level list is refused', '- a\n- b\n', /not a mapping at the top/],
]

for (const [name, text, message] of refusals) {
  Merge(name, () => {
    try {
      mergeRegistriesYaml(text, trust, where)
      assert.unreachable('merge should refuse')
    } catch (error) {
      assert.instance(error, RegistriesYamlError)
      assert.match((error as Error).message, message)
      assert.match((error as Error).message, /node1: \/etc\/rancher\/k3s\/registries.yaml/)
    }
  })
}

Merge('a parse error carries line and column as fields', () => {
  try {
    mergeRegistriesYaml('a: 1\nb: [\n', trust, where)
    assert.unreachable()
  } catch (error) {
    assert.instance(error, RegistriesYamlError)
    assert.type((error as RegistriesYamlError).line, 'number')
    assert.type((error as RegistriesYamlError).column, 'number')
  }
})

const Mask = suite('maskRegistryCredentials')

Mask('every auth credential under configs is masked, other values kept', () => {
  const text = 'configs:\n  a.lan:\n    auth: {username: u, password: pw-one}\n  b.lan:\n    auth:\n      auth: dTpwdw==\n      identity_token: tok\n'
  const masked = maskRegistryCredentials(text) ?? ''
  for (const secret of ['pw-one', 'dTpwdw==', 'tok\n']) assert.not.ok(masked.includes(secret), masked)
  assert.match(masked, /username: u/)
})

Mask('credentials reached through an alias are masked where the anchor is', () => {
  const text = 'x-creds: &c\n  username: u\n  password: hunter2-old-pass\nx-pw: &p other-old-pass\nconfigs:\n  a.lan:\n    auth: *c\n  b.lan:\n    auth:\n      username: v\n      password: *p\n'
  const masked = maskRegistryCredentials(text) ?? ''
  for (const secret of ['hunter2-old-pass', 'other-old-pass']) assert.not.ok(masked.includes(secret), masked)
  assert.match(masked, /username: u/)
})

Mask('unparseable text is masked line by line', () => {
  assert.is(maskRegistryCredentials('a: [\n  password: hunter22\n'), 'a: [\n  password: ****\n')
})

const Ready = suite('readyAfterRestart')

const before = { status: 'True', lastHeartbeatTime: '2026-01-01T00:00:05Z', lastTransitionTime: '2026-01-01T00:00:01Z' }
const readyCases: [string, typeof before | undefined, typeof before | undefined, boolean, boolean][] = [
  ['still the Ready from before', before, before, false, false],
  ['Ready with a newer heartbeat', before, { ...before, lastHeartbeatTime: '2026-01-01T00:00:09Z' }, false, true],
  ['Ready after a NotReady we saw', before, before, true, true],
  ['NotReady now', before, { ...before, status: 'False', lastTransitionTime: '2026-01-01T00:00:09Z' }, true, false],
  ['no condition before, Ready now', undefined, before, false, true],
  ['no condition at all', before, undefined, false, false],
]
for (const [name, was, now, saw, want] of readyCases) Ready(name, () => assert.is(readyAfterRestart(was, now, saw), want))

const Classify = suite('classifyPullFailure')
const pulls: [string, string][] = [
  ['rpc error: code = Unknown desc = failed to pull and unpack image "r/x:1": failed to resolve reference "r/x:1": unexpected status from HEAD request to https://r/v2/x/manifests/1: 401 Unauthorized', 'auth'],
  ['tls: failed to verify certificate: x509: certificate signed by unknown authority', 'tls'],
  ['failed to resolve reference "r/x:1": r/x:1: not found', 'not-found'],
  ['dial tcp: lookup registry.homelab.local: no such host', 'unreachable'],
  ['something else', 'other'],
]
for (const [stderr, kind] of pulls) Classify(`${kind}: ${stderr.slice(0, 40)}`, () => assert.is(classifyPullFailure(stderr), kind))

const Rollout = suite('RestartRollout')
const never = new AbortController().signal

Rollout('turns run in node order, one at a time, whatever order they are asked in', async () => {
  const rollout = new RestartRollout(4)
  const log: string[] = []
  const work = (i: number) => async () => {
    log.push(`start ${i}`)
    await new Promise((r) => setTimeout(r, 5))
    log.push(`end ${i}`)
  }
  rollout.pass(1)
  await Promise.all([rollout.turn(3, never, work(3)), rollout.turn(2, never, work(2)), rollout.turn(0, never, work(0))])
  assert.equal(log, ['start 0', 'end 0', 'start 2', 'end 2', 'start 3', 'end 3'])
})

Rollout('a node that does not come back stops every later turn before it runs', async () => {
  const rollout = new RestartRollout(3)
  const ran: number[] = []
  const outcomes = await Promise.allSettled([
    rollout.turn(0, never, async () => void ran.push(0)),
    rollout.turn(1, never, async () => {
      throw new NodeRolloutError('n1 did not come back', { node: 'n1' })
    }),
    rollout.turn(2, never, async () => void ran.push(2)),
  ])
  assert.equal(ran, [0])
  assert.instance((outcomes[1] as PromiseRejectedResult).reason, NodeRolloutError)
  assert.instance((outcomes[2] as PromiseRejectedResult).reason, StepSkipped)
  assert.match(((outcomes[2] as PromiseRejectedResult).reason as Error).message, /rollout stopped at n1/)
})

Merge.run()
Retire.run()
Plan.run()
Rollout.run()
Mask.run()
Ready.run()
Classify.run()
