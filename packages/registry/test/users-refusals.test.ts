import { mkdtempSync, readFileSync, writeFileSync } from 'node:fs'
import { tmpdir } from 'node:os'
import { join } from 'node:path'
import { labOptionsFromEnv, useLab, reportHookErrors } from '@homelab/lab'
import { suite } from 'uvu'
import * as assert from 'uvu/assert'
import { usersTask } from '../src/index.js'

type Ctx = { dir: string; configPath: string; text: string }
const Refusals = suite<Ctx>('registry users refusals decided before anything is read or written', {} as Ctx)

const ENV_PASSWORD = 'ci-pass-from-env-31'

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
  ctx.text = `domain: homelab.local\nkubernetes: {kubeconfig: ${lab.kubeconfigPath}}\nregistry:\n  namespace: reg-refusals-${Date.now()}\n  users:\n    - name: admin\n    - name: ci\n    - name: bot\n`
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

Refusals.run()
