import { Secret, UsageError } from '@homelab/core'
import { suite } from 'uvu'
import * as assert from 'uvu/assert'
import { editConfigUsers, parseUsersCommand } from '../src/index.js'

const Edit = suite('registry.users edits and users command parsing')

const FILE = `# top comment
registry:
  users:
    # admin comment
    - name: admin
    - name: ci
      passwordFile: ./ci   # from a file
`

const editCases: [string, string, Parameters<typeof editConfigUsers>[1], string[], RegExp[], RegExp[]][] = [
  ['add appends and keeps every comment', FILE, { op: 'add', name: 'bot' }, ['admin', 'ci'], [/# top comment/, /# admin comment/, /# from a file/, /- name: bot\n/], []],
  ['remove drops the entry with its password key', FILE, { op: 'remove', name: 'ci' }, ['admin', 'ci'], [/- name: admin/, /# top comment/], [/name: ci/, /passwordFile/]],
  ['add with no registry.users keeps the default admin', 'domain: lab.home.arpa\n', { op: 'add', name: 'bot' }, ['admin'], [/domain: lab\.home\.arpa/, /- name: admin\n\s+- name: bot/], []],
  ['add to a registry section without users keeps its other keys', 'registry:\n  namespace: reg\n', { op: 'add', name: 'bot' }, ['admin'], [/namespace: reg/, /- name: admin/, /- name: bot/], []],
]
for (const [name, text, edit, effective, present, absent] of editCases) {
  Edit(`editConfigUsers: ${name}`, () => {
    const out = editConfigUsers(text, edit, effective)
    for (const p of present) assert.match(out, p)
    for (const p of absent) assert.not.match(out, p)
  })
}

Edit('parseUsersCommand: add takes a password from stdin; remove and rotate take none', () => {
  const password = new Secret('from-stdin-pw')
  assert.equal(parseUsersCommand(['add', 'ci'], password), { verb: 'add', name: 'ci', password })
  assert.equal(parseUsersCommand(['rotate', 'ci'], undefined), { verb: 'rotate', name: 'ci' })
  assert.equal(parseUsersCommand(['remove', 'ci'], undefined), { verb: 'remove', name: 'ci' })
})

const usageCases: [string[], RegExp][] = [
  [[], /expected add, remove or rotate/],
  [['list'], /expected add, remove or rotate/],
  [['add'], /exactly one user name/],
  [['add', 'a', 'b'], /exactly one user name/],
  [['add', 'a b'], /must not contain/],
]
const stdinCases: [string, string][] = [['an empty', ''], ['a whitespace-only', ' \t \r\n ']]
for (const [name, stdin] of stdinCases) {
  Edit(`parseUsersCommand refuses ${name} password from stdin and says how to get one`, () => {
    try {
      parseUsersCommand(['add', 'ci'], new Secret(stdin))
      assert.unreachable('should refuse')
    } catch (e) {
      assert.instance(e, UsageError)
      assert.match((e as Error).message, /empty password; pipe a non-empty password, or drop --password-stdin to have one generated/)
    }
  })
}

for (const [args, message] of usageCases) {
  Edit(`parseUsersCommand refuses ${JSON.stringify(args)}`, () => {
    try {
      parseUsersCommand(args, undefined)
      assert.unreachable('should refuse')
    } catch (e) {
      assert.instance(e, UsageError)
      assert.match((e as Error).message, message)
    }
  })
}

Edit.run()
