import { spawnSync } from 'node:child_process'
import { redact, Secret } from '@homelab/core'
import { suite } from 'uvu'
import * as assert from 'uvu/assert'
import { bcryptCostOf, hashPassword, htpasswdLineMatches, parseHtpasswd, renderHtpasswd } from '../src/index.js'
import { verifiedLines, vouchedMatcher } from '../src/verified-htpasswd-lines.js'
import { apacheVerifies } from './fixtures/apache-htpasswd.js'

const Htpasswd = suite('htpasswd')
// Cost 4 keeps these tests fast; the default cost (5) is exercised by the bootstrap tests.
const COST = 4
const user = (name: string, password: string) => ({ name, password: new Secret(password) })
const lines = (text: string) => text.trimEnd().split('\n')

Htpasswd('lines are name:$2y$05$… in config order, one per user', async () => {
  const text = await renderHtpasswd([user('zed', 'pw-zed-1'), user('admin', 'pw-admin-1')], undefined)
  assert.equal(lines(text).map((l) => l.split(':')[0]), ['zed', 'admin'])
  assert.ok(lines(text).every((l) => /^[a-z]+:\$2y\$05\$[./A-Za-z0-9]{53}$/.test(l)))
  assert.ok(text.endsWith('\n'))
})

Htpasswd('an unchanged password keeps its exact line, so a re-render is byte-identical', async () => {
  const users = [user('admin', 'same-pw-1'), user('ci', 'same-pw-2')]
  const first = await renderHtpasswd(users, undefined, { cost: COST })
  const second = await renderHtpasswd(users, first, { cost: COST })
  assert.is(second, first)
})

Htpasswd('a changed password changes exactly that user\'s line', async () => {
  const first = await renderHtpasswd([user('admin', 'old-a'), user('ci', 'old-c'), user('bot', 'old-b')], undefined, { cost: COST })
  const second = await renderHtpasswd([user('admin', 'old-a'), user('ci', 'new-c'), user('bot', 'old-b')], first, { cost: COST })
  const [a, b] = [lines(first), lines(second)]
  assert.equal(a.map((l, i) => l === b[i]), [true, false, true])
  assert.ok(apacheVerifies(second, 'ci', 'new-c'))
  assert.not.ok(apacheVerifies(second, 'ci', 'old-c'))
})

Htpasswd('a line made with another cost is made again with the configured one, then kept', async () => {
  const users = [user('admin', 'same-pw-a'), user('ci', 'same-pw-c')]
  const atFive = await renderHtpasswd(users, undefined, { cost: 5 })
  const atFour = await renderHtpasswd(users, atFive, { cost: COST })
  assert.equal(lines(atFour).map((l) => bcryptCostOf(l.slice(l.indexOf(':') + 1))), [COST, COST])
  for (const u of users) assert.ok(apacheVerifies(atFour, u.name, u.password.reveal()), u.name)
  assert.is(await renderHtpasswd(users, atFour, { cost: COST }), atFour, 'the same cost again: every line kept')
})

Htpasswd('bcryptCostOf reads the cost of every bcrypt prefix, and nothing else', () => {
  const table: [string, number | undefined][] = [
    ['$2a$05$abcdefghijklmnopqrstuuabcdefghijklmnopqrstuvwxyz01234', 5],
    ['$2b$12$abcdefghijklmnopqrstuuabcdefghijklmnopqrstuvwxyz01234', 12],
    ['$2y$04$abcdefghijklmnopqrstuuabcdefghijklmnopqrstuvwxyz01234', 4],
    ['$apr1$abcdefgh$0123456789012345678901', undefined],
    ['{SHA}W6ph5Mm5Pz8GgiULbPgzG37mj9g=', undefined],
    ['', undefined],
  ]
  for (const [hash, cost] of table) assert.is(bcryptCostOf(hash), cost, hash)
})

Htpasswd('a line Apache\'s htpasswd -B wrote (cost 5) is kept byte for byte at the default cost', async () => {
  const made = spawnSync('htpasswd', ['-niB', 'admin'], { input: 'apache-made-pw', encoding: 'utf8' })
  assert.is(made.status, 0, made.stderr)
  const apacheLine = `${made.stdout.trim()}\n`
  assert.match(apacheLine, /^admin:\$2y\$05\$/)
  assert.is(await renderHtpasswd([user('admin', 'apache-made-pw')], apacheLine), apacheLine)
})

Htpasswd('a removed user\'s line goes and the others stay as they were', async () => {
  const first = await renderHtpasswd([user('admin', 'a-pw'), user('ci', 'c-pw')], undefined, { cost: COST })
  const second = await renderHtpasswd([user('admin', 'a-pw')], first, { cost: COST })
  assert.equal(lines(second), [lines(first)[0]])
})

Htpasswd('a non-bcrypt line (apr1) is replaced: the registry only accepts bcrypt', async () => {
  const apr1 = 'admin:$apr1$abcdefgh$0123456789012345678901\n'
  const text = await renderHtpasswd([user('admin', 'pw-apr')], apr1, { cost: COST })
  assert.match(text, /^admin:\$2y\$/)
})

Htpasswd('Apache htpasswd -v agrees with every line, and rejects a wrong password', async () => {
  const users = [user('admin', 'Sp3cial:chars $and spaces'), user('ci', 'plain-pw')]
  const text = await renderHtpasswd(users, undefined)
  for (const u of users) assert.ok(apacheVerifies(text, u.name, u.password.reveal()), u.name)
  assert.not.ok(apacheVerifies(text, 'admin', 'wrong'))
})

Htpasswd('parse keeps each user\'s first line exactly and ignores blank or malformed lines', () => {
  const parsed = parseHtpasswd('admin:$2y$04$x\n\nnocolon\nci:$2y$04$y\nadmin:$2y$04$dup\n')
  assert.equal([...parsed.entries()], [['admin', 'admin:$2y$04$x'], ['ci', 'ci:$2y$04$y']])
})

Htpasswd('hashes use the $2y$ prefix Apache writes', async () => {
  assert.match(await hashPassword(new Secret('x-pw'), COST), /^\$2y\$04\$/)
})

Htpasswd('lines the credentials Secret vouches for are kept without a bcrypt; any other line is checked', async () => {
  const users = [user('admin', 'vouched-a'), user('ci', 'vouched-c')]
  const text = await renderHtpasswd(users, undefined, { cost: COST })
  const annotation = verifiedLines(users, text)
  const digests = Object.values(JSON.parse(annotation) as Record<string, string>)
  assert.equal(Object.keys(JSON.parse(annotation) as object), ['admin', 'ci'])
  assert.ok(digests.every((d) => /^[0-9a-f]{64}$/.test(d)))
  for (const digest of digests) assert.not.ok(redact(`diff: ${annotation}`).includes(digest), 'a digest of a password reached output unmasked')
  const asked: string[] = []
  const fallback = async (line: string, password: Secret) => (asked.push(line.split(':')[0]!), htpasswdLineMatches(line, password))
  // Same passwords, same lines: no bcrypt at all, and the same bytes.
  assert.is(await renderHtpasswd(users, text, { cost: COST, matches: vouchedMatcher(annotation, fallback) }), text)
  assert.equal(asked, [])
  // A new password for ci: its old line is checked the slow way (and fails), admin's is still vouched for.
  const rotated = [user('admin', 'vouched-a'), user('ci', 'new-c')]
  const next = await renderHtpasswd(rotated, text, { cost: COST, matches: vouchedMatcher(annotation, fallback) })
  assert.equal(asked, ['ci'])
  assert.ok(apacheVerifies(next, 'ci', 'new-c'))
  // A line edited by hand, or an annotation that is not ours to read, vouches for nothing.
  asked.length = 0
  const edited = text.replace(/^admin:.*$/m, (await renderHtpasswd([user('admin', 'vouched-a')], undefined, { cost: COST })).trimEnd())
  await renderHtpasswd(users, edited, { cost: COST, matches: vouchedMatcher(annotation, fallback) })
  assert.equal(asked, ['admin'])
  asked.length = 0
  await renderHtpasswd(users, text, { cost: COST, matches: vouchedMatcher('not json', fallback) })
  assert.equal(asked, ['admin', 'ci'])
})

Htpasswd.run()
