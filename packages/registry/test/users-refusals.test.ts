import { mkdtempSync, readFileSync, writeFileSync } from 'node:fs'
import { tmpdir } from 'node:os'
import { join } from 'node:path'
import { createKubeClient, type KubeClient } from '@homelab/core'
import { labOptionsFromEnv, useLab, reportHookErrors } from '@homelab/lab'
import { suite } from 'uvu'
import * as assert from 'uvu/assert'
import { usersTask } from '../src/index.js'

type Ctx = { kube: KubeClient; recordNs: string; dir: string; configPath: string; text: string }
const Refusals = suite<Ctx>('registry users refusals: what would not stick is refused before anything is written', {} as Ctx)

const ENV_PASSWORD = 'ci-pass-from-env-31'
const ROTATION_NEXT = 'rotation-next-pass-47'

/** The task in-process under --plan (no lock, no write), with extra environment variables. */
async function users(ctx: Ctx, args: string[], env: Record<string, string>) {
  let output = ''
  const out = { write: (s: string) => void (output += s) }
  const io = { argv: [...args, '--plan', '--config', ctx.configPath], env: { HOME: ctx.dir, ...env }, cwd: ctx.dir, stdout: out, stderr: out, signal: new AbortController().signal }
  const code = await usersTask(io, async () => '')
  return { code, output }
}

Refusals.before(reportHookErrors(async (ctx) => {
  const lab = await useLab(labOptionsFromEnv(process.env))
  ctx.dir = mkdtempSync(join(tmpdir(), 'registry-users-refusals-'))
  ctx.configPath = join(ctx.dir, 'homelab.yaml')
  // A namespace nobody creates: --plan only reads, and finds nothing there.
  ctx.kube = createKubeClient({ kubeconfigPath: lab.kubeconfigPath, fieldManager: 'homelab-devtools' })
  // pnpm rotate-credentials' record of an unfinished rotation of ci, in this test's own kubernetes.namespace.
  ctx.recordNs = `reg-refusals-rot-${Date.now()}`
  await ctx.kube.apply({ apiVersion: 'v1', kind: 'Namespace', metadata: { name: ctx.recordNs } }, { dryRun: false, force: false })
  const b64 = (s: string) => Buffer.from(s).toString('base64')
  await ctx.kube.apply({ apiVersion: 'v1', kind: 'Secret', metadata: { name: 'registry-rotation', namespace: ctx.recordNs }, data: { user: b64('ci'), next: b64(ROTATION_NEXT) } }, { dryRun: false, force: false })
  ctx.text = `domain: homelab.local\nkubernetes: {kubeconfig: ${lab.kubeconfigPath}, namespace: ${ctx.recordNs}}\nregistry:\n  namespace: reg-refusals-${Date.now()}\n  users:\n    - name: admin\n    - name: ci\n    - name: bot\n`
  writeFileSync(ctx.configPath, ctx.text)
  writeFileSync(join(ctx.dir, 'bot-password'), `${ENV_PASSWORD}\n`, { mode: 0o600 })
}))

const shifted: [string, string, Record<string, string>, RegExp][] = [
  ['a password variable at the removed index', 'ci', { HOMELAB_REGISTRY__USERS__1__PASSWORD: ENV_PASSWORD }, /HOMELAB_REGISTRY__USERS__1__PASSWORD sets registry\.users by position: removing ci \(registry\.users\[1\]\)/],
  ['a password-file variable past the removed index', 'ci', { HOMELAB_REGISTRY__USERS__2__PASSWORD_FILE: 'bot-password' }, /HOMELAB_REGISTRY__USERS__2__PASSWORD_FILE sets registry\.users by position/],
  ['two variables, named both', 'ci', { HOMELAB_REGISTRY__USERS__2__PASSWORD: ENV_PASSWORD, HOMELAB_REGISTRY__USERS__1__PASSWORD: ENV_PASSWORD }, /HOMELAB_REGISTRY__USERS__1__PASSWORD, HOMELAB_REGISTRY__USERS__2__PASSWORD set registry\.users by position/],
]
for (const [name, user, env, message] of shifted) {
  Refusals(`users remove is refused with ${name}, the variable and what to do named, the value never`, async (ctx) => {
    const { code, output } = await users(ctx, ['remove', user], env)
    assert.is(code, 1, output)
    assert.match(output, message)
    assert.match(output, /unset HOMELAB_REGISTRY__USERS__\d__PASSWORD.*then run users remove ci again/s)
    assert.not.ok(output.includes(ENV_PASSWORD), 'the password from the environment was printed')
    assert.is(readFileSync(ctx.configPath, 'utf8'), ctx.text)
  })
}

Refusals('a password variable for a user before the removed one does not shift: users remove bot goes on to its plan', async (ctx) => {
  const { code, output } = await users(ctx, ['remove', 'bot'], { HOMELAB_REGISTRY__USERS__1__PASSWORD: ENV_PASSWORD })
  assert.is(code, 0, output)
  assert.not.match(output, /by position/)
  assert.match(output, /remove bot in registry\.users/)
  assert.not.ok(output.includes(ENV_PASSWORD), 'the password from the environment was printed')
  assert.is(readFileSync(ctx.configPath, 'utf8'), ctx.text)
})

Refusals.after(async (ctx) => {
  await ctx.kube?.delete({ apiVersion: 'v1', kind: 'Namespace', name: ctx.recordNs })
})

for (const verb of ['rotate', 'remove']) {
  Refusals(`users ${verb} of the user an unfinished rotate-credentials is for is refused: finish it or delete the record`, async (ctx) => {
    const { code, output } = await users(ctx, [verb, 'ci'], {})
    assert.is(code, 1, output)
    assert.match(output, new RegExp(`rotate-credentials of ci's password is unfinished \\(Secret ${ctx.recordNs}/registry-rotation\\)`))
    assert.match(output, new RegExp(`finish it first \\(pnpm rotate-credentials\\).*kubectl -n ${ctx.recordNs} delete secret registry-rotation`))
    assert.not.ok(output.includes(ROTATION_NEXT), 'the password the rotation moves to was printed')
    assert.is(readFileSync(ctx.configPath, 'utf8'), ctx.text)
  })
}

Refusals('users add of the user an unfinished rotate-credentials is for (removed from the config since) is refused', async (ctx) => {
  writeFileSync(ctx.configPath, ctx.text.replace('    - name: ci\n', ''))
  try {
    const { code, output } = await users(ctx, ['add', 'ci'], {})
    assert.is(code, 1, output)
    assert.match(output, /rotate-credentials of ci's password is unfinished/)
    assert.not.ok(output.includes(ROTATION_NEXT), 'the password the rotation moves to was printed')
  } finally {
    writeFileSync(ctx.configPath, ctx.text)
  }
})

Refusals('users rotate of another user goes on to its plan while a rotation of ci is unfinished', async (ctx) => {
  const { code, output } = await users(ctx, ['rotate', 'bot'], {})
  assert.is(code, 0, output)
  assert.not.match(output, /unfinished/)
  assert.not.ok(output.includes(ROTATION_NEXT), 'the password the rotation moves to was printed')
})

Refusals.run()
