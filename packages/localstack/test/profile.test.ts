import { existsSync, lstatSync, mkdirSync, mkdtempSync, readFileSync, rmSync, statSync, symlinkSync, writeFileSync } from 'node:fs'
import { tmpdir } from 'node:os'
import { join } from 'node:path'
import { createReporter, openToolContext, runSteps, type RunResult } from '@homelab/core'
import { suite } from 'uvu'
import * as assert from 'uvu/assert'
import { awsProfileSteps, localstackProfileSteps, mergeIniSection } from '../src/index.js'
import { writeTestConfig } from './lab-config.js'

const WORK_CONFIG = '# my profiles\n[profile work]\nregion = eu-west-1\nsso_start_url = https://example.awsapps.com/start\r\n\n[default]\noutput=json'
const WORK_CREDENTIALS = '[work]\naws_access_key_id = AKIAWORKEXAMPLE\naws_secret_access_key = work-secret-do-not-print\n'
const CA = '-----BEGIN CERTIFICATE-----\nMIIBfake\n-----END CERTIFICATE-----\n'

type Ctx = { home: string }
const Profile = suite<Ctx>('localstack AWS profile', { home: '' })

Profile.before.each((ctx) => {
  ctx.home = mkdtempSync(join(tmpdir(), 'localstack-home-'))
  mkdirSync(join(ctx.home, '.aws'))
  writeFileSync(join(ctx.home, '.aws', 'config'), WORK_CONFIG)
  writeFileSync(join(ctx.home, '.aws', 'credentials'), WORK_CREDENTIALS)
})
Profile.after.each((ctx) => rmSync(ctx.home, { recursive: true, force: true }))

async function writeProfile(home: string, plan = false): Promise<RunResult & { text: string }> {
  let text = ''
  const reporter = createReporter({ json: false, out: { write: (s: string) => void (text += s) } })
  const steps = awsProfileSteps({ home, profile: 'localstack', endpointUrl: 'https://localstack.homelab.local', region: 'us-east-1', caPem: async () => CA })
  return { ...(await runSteps(steps, { title: 'profile', plan, reporter })), text }
}

const read = (home: string, file: string) => readFileSync(join(home, '.aws', file), 'utf8')

Profile('profile keeps an existing [profile work] byte for byte and adds [profile localstack]', async ({ home }) => {
  const result = await writeProfile(home)
  assert.is(result.failed, 0, result.text)
  const config = read(home, 'config')
  assert.ok(config.startsWith(WORK_CONFIG), config)
  assert.ok(config.endsWith(`[profile localstack]\nregion = us-east-1\nendpoint_url = https://localstack.homelab.local\nca_bundle = ${join(home, '.aws', 'localstack-ca.pem')}\n`), config)
  const credentials = read(home, 'credentials')
  assert.is(credentials, `${WORK_CREDENTIALS}\n[localstack]\naws_access_key_id = test\naws_secret_access_key = test\n`)
  assert.is(read(home, 'localstack-ca.pem'), CA)
  for (const file of ['config', 'credentials', 'localstack-ca.pem']) assert.is(statSync(join(home, '.aws', file)).mode & 0o777, 0o600)
})

Profile('a second profile run reports changed=0', async ({ home }) => {
  await writeProfile(home)
  const again = await writeProfile(home)
  assert.is(again.changed, 0, again.text)
})

Profile('--plan shows the change and writes nothing; the diff never shows other profiles', async ({ home }) => {
  const planned = await writeProfile(home, true)
  assert.is(planned.changed, 3)
  assert.is(read(home, 'config'), WORK_CONFIG)
  assert.is(read(home, 'credentials'), WORK_CREDENTIALS)
  assert.match(planned.text, /\[profile localstack\]/)
  assert.not.ok(planned.text.includes('work-secret-do-not-print'))
})

Profile('the profile task takes HOME from its environment and writes no CA with an acme issuer', async ({ home }) => {
  const config = writeTestConfig({}, { tls: { mode: 'acme', issuer: { name: 'letsencrypt' } } })
  const reporter = createReporter({ json: false, out: { write: () => undefined } })
  const tool = openToolContext({ flags: { config }, reporter, env: { HOME: home }, cwd: home, signal: new AbortController().signal })
  const result = await runSteps(localstackProfileSteps(tool), { title: 'profile', plan: false, reporter })
  assert.is(result.failed, 0)
  assert.not.match(read(home, 'config'), /ca_bundle/)
  assert.ok(read(home, 'config').startsWith(WORK_CONFIG))
})

Profile('symlinked ~/.aws files stay symlinks and their targets get the profile; a second run changes nothing', async ({ home }) => {
  const dotfiles = join(home, 'dotfiles')
  mkdirSync(dotfiles)
  for (const file of ['config', 'credentials']) {
    writeFileSync(join(dotfiles, `aws-${file}`), read(home, file))
    rmSync(join(home, '.aws', file))
    // A relative link, as `ln -s ../dotfiles/aws-config` makes it.
    symlinkSync(join('..', 'dotfiles', `aws-${file}`), join(home, '.aws', file))
  }
  const result = await writeProfile(home)
  assert.is(result.failed, 0, result.text)
  for (const file of ['config', 'credentials']) {
    assert.ok(lstatSync(join(home, '.aws', file)).isSymbolicLink(), `~/.aws/${file} was replaced by a plain file`)
    assert.match(readFileSync(join(dotfiles, `aws-${file}`), 'utf8'), /localstack\]/)
  }
  assert.ok(readFileSync(join(dotfiles, 'aws-config'), 'utf8').startsWith(WORK_CONFIG))
  assert.is((await writeProfile(home)).changed, 0)
})

Profile('the profile task writes where AWS_CONFIG_FILE and AWS_SHARED_CREDENTIALS_FILE point, and leaves ~/.aws alone', async ({ home }) => {
  const elsewhere = join(home, 'elsewhere')
  const config = writeTestConfig({}, { tls: { mode: 'acme', issuer: { name: 'letsencrypt' } } })
  const reporter = createReporter({ json: false, out: { write: () => undefined } })
  const env = { HOME: home, AWS_CONFIG_FILE: join(elsewhere, 'aws.conf'), AWS_SHARED_CREDENTIALS_FILE: '~/elsewhere/keys' }
  const tool = openToolContext({ flags: { config }, reporter, env, cwd: home, signal: new AbortController().signal })
  const result = await runSteps(localstackProfileSteps(tool), { title: 'profile', plan: false, reporter })
  assert.is(result.failed, 0)
  assert.match(readFileSync(join(elsewhere, 'aws.conf'), 'utf8'), /\[profile localstack\]\nregion = /)
  assert.match(readFileSync(join(elsewhere, 'keys'), 'utf8'), /\[localstack\]\naws_access_key_id = test/)
  assert.is(read(home, 'config'), WORK_CONFIG)
  assert.is(read(home, 'credentials'), WORK_CREDENTIALS)
  assert.not.ok(existsSync(join(home, '.aws', 'localstack-ca.pem')))
  assert.is((await runSteps(localstackProfileSteps(tool), { title: 'profile', plan: false, reporter })).changed, 0)
})

Profile('LocalStack switched off: the profile task writes nothing and leaves the section an earlier run wrote as it is', async ({ home }) => {
  await writeProfile(home)
  const files = ['config', 'credentials', 'localstack-ca.pem']
  const before = files.map((file) => read(home, file))
  let text = ''
  const reporter = createReporter({ json: false, out: { write: (s: string) => void (text += s) } })
  // No kubeconfig: switched off, the task must not need the cluster for the CA either.
  const config = writeTestConfig({ enabled: false })
  const tool = openToolContext({ flags: { config }, reporter, env: { HOME: home }, cwd: home, signal: new AbortController().signal })
  const result = await runSteps(localstackProfileSteps(tool), { title: 'profile', plan: false, reporter })
  assert.is(result.changed, 0, text)
  assert.is(result.failed, 0, text)
  assert.equal(files.map((file) => read(home, file)), before)
  assert.match(text, /skipped\s+aws profile: localstack\.enabled is false: no profile written; .*\[profile localstack\].*left as it is/)
})

const cases: [string, string | undefined, string][] = [
  ['no file: the section alone', undefined, '[localstack]\nk = v\n'],
  ['a file without a final newline gets a blank line before the section', '[a]\nx = 1', '[a]\nx = 1\n\n[localstack]\nk = v\n'],
  ['an existing section is updated in place, other keys and the blank line after it kept', '[localstack]\nk = old\nmine = 1\n\n[b]\ny = 2\n', '[localstack]\nk = v\nmine = 1\n\n[b]\ny = 2\n'],
  ['a section at the end without a newline', '[b]\n[localstack]\nother = 1', '[b]\n[localstack]\nother = 1\nk = v\n'],
]
for (const [name, before, after] of cases) Profile(`merge: ${name}`, () => assert.is(mergeIniSection(before, 'localstack', [['k', 'v']]), after))

// Read the way the AWS CLI reads them (configparser through botocore).
const WANT: [string, string][] = [['region', 'us-east-1'], ['endpoint_url', 'https://ls']]
const configparserCases: [string, string, string, string[]?][] = [
  ['a header with a trailing comment is the same section', '[profile localstack]  # set up by hand\nregion = eu-west-1\n', '[profile localstack]  # set up by hand\nregion = us-east-1\nendpoint_url = https://ls\n'],
  ['a header with extra spaces is the same profile', '[profile  localstack]\nregion = eu-west-1\n', '[profile  localstack]\nregion = us-east-1\nendpoint_url = https://ls\n'],
  ['keys compare without case; ours replaces theirs', '[profile localstack]\nRegion = eu-west-1\nENDPOINT_URL: http://old\n', '[profile localstack]\nregion = us-east-1\nendpoint_url = https://ls\n'],
  ['an indented nested key continues the option above it and stays as it is', '[profile localstack]\nregion = eu-west-1\ns3 =\n  endpoint_url = http://minio:9000\n  addressing_style = path\n', '[profile localstack]\nregion = us-east-1\ns3 =\n  endpoint_url = http://minio:9000\n  addressing_style = path\nendpoint_url = https://ls\n'],
  ['continuation lines of a key we set go with it', '[profile localstack]\nregion =\n  eu-west-1\nendpoint_url = https://ls\n', '[profile localstack]\nregion = us-east-1\nendpoint_url = https://ls\n'],
  ['a removed key goes, continuation lines and all; other lines stay', '[profile localstack]\n; mine\nregion = us-east-1\nca_bundle = /old.pem\nendpoint_url = https://ls\noutput = json\n\n[profile work]\nca_bundle = /work.pem\n', '[profile localstack]\n; mine\nregion = us-east-1\nendpoint_url = https://ls\noutput = json\n\n[profile work]\nca_bundle = /work.pem\n', ['ca_bundle']],
]
for (const [name, before, after, remove] of configparserCases) {
  Profile(`merge: ${name}`, () => assert.is(mergeIniSection(before, 'profile localstack', WANT, remove ? { remove } : {}), after))
}

Profile('with an acme issuer a ca_bundle an earlier run wrote is taken out of the profile, and a second run changes nothing', async ({ home }) => {
  await writeProfile(home)
  assert.match(read(home, 'config'), /ca_bundle/)
  const steps = () => awsProfileSteps({ home, profile: 'localstack', endpointUrl: 'https://localstack.homelab.local', region: 'us-east-1', caPem: async () => undefined })
  const reporter = createReporter({ json: false, out: { write: () => undefined } })
  const first = await runSteps(steps(), { title: 'profile', plan: false, reporter })
  assert.is(first.failed, 0)
  assert.not.match(read(home, 'config'), /ca_bundle/)
  assert.ok(read(home, 'config').startsWith(WORK_CONFIG))
  assert.is((await runSteps(steps(), { title: 'profile', plan: false, reporter })).changed, 0)
})

Profile.run()
