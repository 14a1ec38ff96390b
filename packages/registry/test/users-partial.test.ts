import { existsSync, mkdtempSync, readFileSync, writeFileSync } from 'node:fs'
import { tmpdir } from 'node:os'
import { join } from 'node:path'
import { createKubeClient, type KubeClient } from '@homelab/core'
import { labOptionsFromEnv, useLab, reportHookErrors } from '@homelab/lab'
import { suite } from 'uvu'
import * as assert from 'uvu/assert'
import { storedSecretValue, usersTask } from '../src/index.js'

type Ctx = { kube: KubeClient; ns: string; lockNs: string; dir: string; configPath: string; printed: string[] }
const Partial = suite<Ctx>('registry users when the credentials Secret took the new password but the htpasswd step failed', {} as Ctx)

async function users(ctx: Ctx, args: string[]) {
  let output = ''
  const out = { write: (s: string) => void (output += s) }
  const io = { argv: [...args, '--config', ctx.configPath], env: { HOME: ctx.dir }, cwd: ctx.dir, stdout: out, stderr: out, signal: new AbortController().signal }
  const code = await usersTask(io, async () => '')
  ctx.printed.push(output)
  return { code, output }
}
const stored = (ctx: Ctx, name: string) => storedSecretValue(ctx.kube, { name: 'registry-credentials', namespace: ctx.ns }, name)

Partial.before(reportHookErrors(async (ctx) => {
  const lab = await useLab(labOptionsFromEnv(process.env))
  ctx.kube = createKubeClient({ kubeconfigPath: lab.kubeconfigPath, fieldManager: 'homelab-devtools' })
  const stamp = Date.now()
  ctx.ns = `reg-partial-${stamp}`
  // Our own lock namespace: the shared one is taken by whoever else runs registry tasks on the lab.
  ctx.lockNs = `reg-partial-lock-${stamp}`
  ctx.printed = []
  ctx.dir = mkdtempSync(join(tmpdir(), 'registry-users-partial-'))
  ctx.configPath = join(ctx.dir, 'homelab.yaml')
  writeFileSync(ctx.configPath, `domain: homelab.local\nkubernetes: {kubeconfig: ${lab.kubeconfigPath}, namespace: ${ctx.lockNs}}\nregistry:\n  namespace: ${ctx.ns}\n  users:\n    - name: admin\n    - name: bot\n`)
  for (const name of [ctx.ns, ctx.lockNs]) await ctx.kube.apply({ apiVersion: 'v1', kind: 'Namespace', metadata: { name } }, { dryRun: false, force: false })
  // Someone else owns the htpasswd key, so our apply of it (no --force-conflicts) is refused after the credentials one.
  const other = createKubeClient({ kubeconfigPath: lab.kubeconfigPath, fieldManager: 'someone-else' })
  await other.apply({ apiVersion: 'v1', kind: 'Secret', metadata: { name: 'registry-auth', namespace: ctx.ns }, data: { htpasswd: Buffer.from('admin:x\n').toString('base64') } }, { dryRun: false, force: false })
}))

Partial.after(async (ctx) => {
  for (const name of [ctx.ns, ctx.lockNs]) await ctx.kube?.delete({ apiVersion: 'v1', kind: 'Namespace', name })
})

Partial('users add --password-file: the htpasswd apply fails, yet the stored new password is written to the file and its Secret named', async (ctx) => {
  const file = join(ctx.dir, 'ci.pw')
  const { code, output } = await users(ctx, ['add', 'ci', '--password-file', file])
  assert.is(code, 1, output)
  assert.match(output, /failed\s+apply Secret .*registry-auth/)
  const kept = await stored(ctx, 'ci')
  assert.ok(kept, 'the credentials Secret holds the new password')
  assert.ok(existsSync(file), 'no --password-file was written')
  assert.is(readFileSync(file, 'utf8'), `${kept}\n`)
  assert.match(output, new RegExp(`new password of ci is stored in Secret ${ctx.ns}/registry-credentials key ci, but a later step failed.*run pnpm turbo bootstrap`, 's'))
  assert.not.ok(output.includes(kept!), 'the password was printed')
})

Partial('users rotate with no flag: the failure still says where the new password is kept, and never prints it', async (ctx) => {
  const before = await stored(ctx, 'bot')
  const { code, output } = await users(ctx, ['rotate', 'bot'])
  assert.is(code, 1, output)
  const kept = await stored(ctx, 'bot')
  assert.ok(kept && kept !== before, 'the rotation did not store a new password')
  assert.match(output, new RegExp(`new password of bot is stored in Secret ${ctx.ns}/registry-credentials key bot`))
  assert.not.ok(output.includes(kept!), 'the password was printed')
})

Partial('nothing printed holds a stored password', async (ctx) => {
  const printed = ctx.printed.join('\n')
  for (const user of ['admin', 'bot', 'ci']) {
    const value = await stored(ctx, user)
    assert.ok(value)
    assert.not.ok(printed.includes(value!), `${user}'s password was printed`)
  }
})

Partial.run()
