import { randomBytes } from 'node:crypto'
import { chmodSync, readFileSync, renameSync, statSync, writeFileSync } from 'node:fs'
import { basename, dirname, join } from 'node:path'
import { isMap, isSeq, parseDocument, YAMLMap } from 'yaml'
import type { ChangeView, Step } from '@homelab/core'

export type UsersEdit = { op: 'add' | 'remove'; name: string }

const USERS_PATH = ['registry', 'users'] as const

/**
 * Pure: the config text with `registry.users` edited, comments and layout kept. `effective` is the list the loaded
 * config has (defaults included), used when the file has no registry.users of its own, so the default `admin` is not
 * lost by adding a second user.
 */
export function editConfigUsers(text: string, edit: UsersEdit, effective: readonly string[]): string {
  const document = parseDocument(text)
  const users = document.getIn(USERS_PATH, true)
  if (!isSeq(users)) {
    const names = edit.op === 'add' ? [...effective, edit.name] : effective.filter((n) => n !== edit.name)
    document.setIn(USERS_PATH, document.createNode(names.map((name) => ({ name }))))
    return document.toString()
  }
  if (edit.op === 'add') users.add(document.createNode({ name: edit.name }))
  else {
    const index = users.items.findIndex((item) => isMap(item) && (item as YAMLMap).get('name') === edit.name)
    if (index >= 0) users.delete(index)
  }
  return document.toString()
}

/** Temp file + rename in the same folder, keeping the file's mode: a crash leaves the old file or the new, never half. */
export function writeFileAtomic(path: string, text: string): void {
  const mode = statSync(path).mode & 0o777
  const temp = join(dirname(path), `.${basename(path)}.${randomBytes(6).toString('hex')}.tmp`)
  writeFileSync(temp, text, { mode })
  chmodSync(temp, mode)
  renameSync(temp, path)
}

type FileChange = { path: string; before: string; after: string }

/** The config-file edit as a step, so --plan shows it and the runner reports it like every other change. */
export function configUsersStep(path: string, edit: UsersEdit, effective: readonly string[]): Step<string, FileChange> {
  return {
    name: `${edit.op} ${edit.name} in registry.users of ${basename(path)}`,
    check: async () => readFileSync(path, 'utf8'),
    desired: () => '',
    diff: (current) => {
      const after = editConfigUsers(current, edit, effective)
      return after === current ? [] : [{ path, before: current, after }]
    },
    apply: async (changes) => {
      for (const change of changes) writeFileAtomic(change.path, change.after)
    },
    describe: (change): ChangeView => ({ summary: `update ${change.path}`, before: change.before, after: change.after }),
  }
}
