import { spawnSync } from 'node:child_process'
import { mkdtempSync, readFileSync, statSync, writeFileSync } from 'node:fs'
import { tmpdir } from 'node:os'
import { join } from 'node:path'
import { acquireRunLock, applyStep, createKubeClient, PIPELINE_LOCK, createReporter, loadConfig, runSteps, type KubeClient } from '@homelab/core'
import { labOptionsFromEnv, useLab, reportHookErrors } from '@homelab/lab'
import { suite } from 'uvu'
import * as assert from 'uvu/assert'
import { parseHtpasswd, resolveRegistryCredentials, storedSecretValue, usersTask } from '../src/index.js'
import { apacheVerifies } from './fixtures/apache-htpasswd.js'

type Ctx = { kube: KubeClient; kubeconfigPath: string; ns: string; dir: string; configPath: string; printed: string[] }
const Users = suite<Ctx>('registry users task against the lab API server', {} as Ctx)

const TASK = join(import.meta.dirname, '..', 'tasks', 'users.ts')
// The task runs from the config's folder, where `--import tsx` would not resolve by name.
const TSX = import.meta.resolve('tsx')
const STDIN_PASSWORD = 'ci-password-from-stdin-77'

/** The task in-process, with its own argv, env and output; everything it prints is kept to scan for secrets. */
async function users(ctx: Ctx, args: string[], input = '') {
  let output = ''
  const out = { write: (s: string) => void (output += s) }
  const io = { argv: [...args, '--config', ctx.configPath], env: { HOME: ctx.dir }, cwd: ctx.dir, stdout: out, stderr: out, signal: new AbortController().signal }
  const code = await usersTask(io, async () => input)
  ctx.printed.push(output)
  return { code, output }
}

/** The task as a user runs it, in its own process, with the password on its stdin. */
function usersProcess(ctx: Ctx, args: string[], input = '') {
  const result = spawnSync(process.execPath, ['--import', TSX, TASK, ...args, '--config', ctx.configPath], {
    cwd: ctx.dir,
    input,
    encoding: 'utf8',
    env: { PATH: process.env.PATH, HOME: ctx.dir },
  })
  const output = `${result.stdout}${result.stderr}`
  ctx.printed.push(output)
  return { code: result.status, output }
}

const htpasswd = async (ctx: Ctx) => (await storedSecretValue(ctx.kube, { name: 'registry-auth', namespace: ctx.ns }, 'htpasswd')) ?? ''
const stored = (ctx: Ctx, name: string) => storedSecretValue(ctx.kube, { name: 'registry-credentials', namespace: ctx.ns }, name)

Users.before(reportHookErrors(async (ctx) => {
  const lab = await useLab(labOptionsFromEnv(process.env))
  ctx.kubeconfigPath = lab.kubeconfigPath
  ctx.kube = createKubeClient({ kubeconfigPath: lab.kubeconfigPath, fieldManager: 'homelab-devtools' })
  ctx.ns = `reg-users-${Date.now()}`
  ctx.printed = []
  ctx.dir = mkdtempSync(join(tmpdir(), 'registry-users-'))
  ctx.configPath = join(ctx.dir, 'homelab.yaml')
  const text = [
    '# my homelab',
    'domain: homelab.local',
    `kubernetes: {kubeconfig: ${lab.kubeconfigPath}}`,
    'dns: {piholes: []}',
    'nodes: []',
    'registry:',
    `  namespace: ${ctx.ns}`,
    '  users:',
    '    # the first user, keep me',
    '    - name: admin',
    '    - name: fixed',
    '      password: fixed-password-in-config-1',
    '',
  ].join('\n')
  writeFileSync(ctx.configPath, text, { mode: 0o640 })
  await ctx.kube.apply({ apiVersion: 'v1', kind: 'Namespace', metadata: { name: ctx.ns } }, { dryRun: false, force: false })
}))

Users.after(async (ctx) => {
  await ctx.kube?.delete({ apiVersion: 'v1', kind: 'Namespace', name: ctx.ns })
})

Users('users add --plan shows the config edit and changes nothing', async (ctx) => {
  const before = readFileSync(ctx.configPath, 'utf8')
  const { code, output } = await users(ctx, ['add', 'ci', '--plan'])
  assert.is(code, 0, output)
  assert.match(output, /\+\s+- name: ci/)
  assert.is(readFileSync(ctx.configPath, 'utf8'), before)
  assert.is(await stored(ctx, 'ci'), undefined)
})

Users('users add --password-stdin adds the user to homelab.yaml, keeps its comments, and adds the htpasswd line', async (ctx) => {
  const { code, output } = usersProcess(ctx, ['add', 'ci', '--password-stdin'], `${STDIN_PASSWORD}\n`)
  assert.is(code, 0, output)
  const text = readFileSync(ctx.configPath, 'utf8')
  assert.match(text, /# the first user, keep me/)
  assert.match(text, /- name: ci\n/)
  assert.not.match(text, new RegExp(STDIN_PASSWORD))
  assert.is(statSync(ctx.configPath).mode & 0o777, 0o640)
  assert.equal([...parseHtpasswd(await htpasswd(ctx)).keys()], ['admin', 'fixed', 'ci'])
  assert.ok(apacheVerifies(await htpasswd(ctx), 'ci', STDIN_PASSWORD))
  assert.is(await stored(ctx, 'ci'), STDIN_PASSWORD)
})

Users('after users add, bootstrap\'s credentials and htpasswd Secrets are already converged (plan shows changed=0)', async (ctx) => {
  const config = loadConfig({ configPath: ctx.configPath, cwd: ctx.dir, env: { HOME: ctx.dir } })
  const credentials = await resolveRegistryCredentials(ctx.kube, config.registry)
  let output = ''
  const steps = [credentials.credentialsSecret, credentials.htpasswdSecret, credentials.httpSecret].map((o) => applyStep(ctx.kube, o, { force: false }))
  const run = await runSteps(steps, { title: 'recheck', plan: true, reporter: createReporter({ json: false, out: { write: (t: string) => void (output += t) } }) })
  ctx.printed.push(output)
  // The http secret is bootstrap's, not the users task's: only it may still be missing here.
  assert.equal(run.results.filter((r) => r.status !== 'ok').map((r) => r.step), [`apply Secret ${ctx.ns}/registry-http-secret`])
})

Users('users rotate --password-file writes the new password 0600 and changes exactly that line', async (ctx) => {
  const before = parseHtpasswd(await htpasswd(ctx))
  const file = join(ctx.dir, 'ci-password')
  const { code, output } = await users(ctx, ['rotate', 'ci', '--password-file', file])
  assert.is(code, 0, output)
  assert.is(statSync(file).mode & 0o777, 0o600)
  const password = readFileSync(file, 'utf8').trimEnd()
  assert.ok(password.length >= 24 && password !== STDIN_PASSWORD)
  const after = parseHtpasswd(await htpasswd(ctx))
  assert.is(after.get('admin'), before.get('admin'))
  assert.is(after.get('fixed'), before.get('fixed'))
  assert.is.not(after.get('ci'), before.get('ci'))
  assert.ok(apacheVerifies(await htpasswd(ctx), 'ci', password))
  assert.not.ok(output.includes(password), 'the new password must not be printed without --show-password')
  assert.match(output, /Secret .*registry-credentials/)
})

Users('users rotate --show-password prints the new password, which is what the htpasswd Secret accepts', async (ctx) => {
  const { code, output } = await users(ctx, ['rotate', 'ci', '--show-password'])
  assert.is(code, 0, output)
  const shown = /^ci: (\S+)$/m.exec(output)?.[1]
  assert.ok(shown, output)
  assert.is(await stored(ctx, 'ci'), shown)
  assert.ok(apacheVerifies(await htpasswd(ctx), 'ci', shown!))
  ctx.printed.pop() // the one output that shows a password on purpose
})

Users('while a bootstrap holds the pipeline lock, users rotate changes nothing and names the holder', async (ctx) => {
  const lock = await acquireRunLock(ctx.kube, { namespace: 'homelab-devtools', name: PIPELINE_LOCK, task: 'pnpm turbo bootstrap' })
  const before = await htpasswd(ctx)
  try {
    const { code, output } = await users(ctx, ['rotate', 'ci'])
    assert.is(code, 1, output)
    assert.match(output, /another run holds homelab-devtools\/run-lock-pipeline: pnpm turbo bootstrap on /)
  } finally {
    await lock.release()
  }
  assert.is(await htpasswd(ctx), before)
  assert.is(await ctx.kube.get({ apiVersion: 'v1', kind: 'ConfigMap', namespace: 'homelab-devtools', name: 'run-lock-registry' }), undefined, 'a refused run leaves no lock')
})

Users('a second identical request changes nothing: users add of an existing user is refused', async (ctx) => {
  const { code, output } = await users(ctx, ['add', 'ci'])
  assert.is(code, 1)
  assert.match(output, /user ci is already in registry\.users.*users rotate ci/s)
})

const refusals: [string, string[], RegExp][] = [
  ['rotate of a password given in config', ['rotate', 'fixed'], /comes from config.*change it there/s],
  ['rotate of an unknown user', ['rotate', 'nobody'], /not in registry\.users/],
  ['a name with a colon', ['add', 'a:b'], /must not contain ":"/],
  ['--password-stdin with rotate', ['rotate', 'ci', '--password-stdin'], /only goes with users add/],
  ['rotate of registry.users[0], the login the nodes pull with', ['rotate', 'admin'], /admin is registry\.users\[0\].*break pulls.*run pnpm rotate-credentials instead/s],
  ['remove of registry.users[0], the login the nodes pull with', ['remove', 'admin'], /admin is registry\.users\[0\].*put another user first in registry\.users, run pnpm turbo bootstrap/s],
  ['users add --password-stdin with nothing on stdin', ['add', 'empty', '--password-stdin'], /empty password.*drop --password-stdin/],
]
for (const [name, args, message] of refusals) {
  Users(`refused with the reason: ${name}`, async (ctx) => {
    const before = await htpasswd(ctx)
    const { code, output } = await users(ctx, args)
    assert.ok(code === 1 || code === 2, output)
    assert.match(output, message)
    assert.is(await htpasswd(ctx), before)
    const text = readFileSync(ctx.configPath, 'utf8')
    assert.not.match(text, /name: (nobody|empty|a:b)/)
    assert.match(text, /- name: admin\n/)
    assert.ok(parseHtpasswd(await htpasswd(ctx)).has('admin'))
  })
}

Users('users remove drops the config entry, the stored password and the htpasswd line', async (ctx) => {
  const before = parseHtpasswd(await htpasswd(ctx))
  const { code, output } = await users(ctx, ['remove', 'ci'])
  assert.is(code, 0, output)
  assert.not.match(readFileSync(ctx.configPath, 'utf8'), /name: ci/)
  assert.is(await stored(ctx, 'ci'), undefined)
  const after = parseHtpasswd(await htpasswd(ctx))
  assert.equal([...after.keys()], ['admin', 'fixed'])
  assert.is(after.get('admin'), before.get('admin'))
})

Users('nothing the task printed holds a password or a bcrypt hash', async (ctx) => {
  const printed = ctx.printed.join('\n')
  const admin = await stored(ctx, 'admin')
  for (const value of [STDIN_PASSWORD, 'fixed-password-in-config-1', admin!]) assert.not.ok(printed.includes(value), `a ${value.length}-char password was printed`)
  assert.not.match(printed, /\$2[aby]\$\d\d\$/)
})

Users.run()
