import { mkdtempSync, rmSync } from 'node:fs'
import { tmpdir } from 'node:os'
import { join } from 'node:path'
import { createReporter, runSteps, type RunResult } from '@homelab/core'
import { startLocalstackDouble, type LocalstackDouble } from '@homelab/lab'
import { suite } from 'uvu'
import * as assert from 'uvu/assert'
import { localstackEnv, localstackVerifySteps, type LocalstackEndpoint } from '../src/index.js'
import { testConfig } from './lab-config.js'
import { startTlsFront, type TlsFront } from './tls-front.js'

type Ctx = { stateDir: string; double: LocalstackDouble; front: TlsFront; endpoint: LocalstackEndpoint }
const Verify = suite<Ctx>('localstack verify against the lab double', {} as Ctx)
const HOST = 'localstack.homelab.local'
const config = testConfig()

// The double gets the environment the rendered Deployment gives the container.
const deploymentEnv = () => Object.fromEntries(localstackEnv(config.localstack).map((e) => [e.name, e.value ?? '']))

async function startAll(ctx: Ctx, lambdaExecution: 'in-process' | 'unavailable' = 'in-process') {
  ctx.stateDir = mkdtempSync(join(tmpdir(), 'localstack-double-'))
  ctx.double = await startLocalstackDouble({ stateDir: ctx.stateDir, ip: '127.0.5.2', port: 0, env: deploymentEnv(), lambdaExecution })
  ctx.front = await startTlsFront({ ip: '127.0.5.1', host: HOST, upstream: ctx.double.url })
  ctx.endpoint = { url: `https://${HOST}:${ctx.front.port}`, connectTo: ctx.front.ip, ca: ctx.front.caPem }
}

async function stopAll(ctx: Ctx) {
  await ctx.front?.close()
  await ctx.double?.stop()
  if (ctx.stateDir) rmSync(ctx.stateDir, { recursive: true, force: true })
}

async function verify(ctx: Ctx): Promise<RunResult & { text: string }> {
  let text = ''
  const reporter = createReporter({ json: false, out: { write: (s: string) => void (text += s) } })
  const steps = localstackVerifySteps(config, async () => ctx.endpoint, { timeoutMs: 20_000 })
  return { ...(await runSteps(steps, { title: 'localstack verify', plan: false, reporter, concurrency: 4 })), text }
}

const statusOf = (result: RunResult, step: string) => result.results.find((r) => r.step === step)?.status

Verify.before.each((ctx) => startAll(ctx))
Verify.after.each(stopAll)

Verify('verify passes health and all five services through the TLS host; persistence is skipped in community mode', async (ctx) => {
  const result = await verify(ctx)
  for (const service of ['s3', 'sqs', 'sns', 'dynamodb', 'lambda']) assert.is(statusOf(result, `localstack ${service}`), 'ok', `${service}:\n${result.text}`)
  assert.is(statusOf(result, 'localstack health'), 'ok', result.text)
  assert.is(statusOf(result, 'localstack persistence'), 'skipped')
  assert.match(result.text, /skipped\s+localstack persistence: needs a LocalStack auth token/)
  assert.is(result.failed, 0)
})

Verify('a stopped DynamoDB emulator fails the dynamodb step by name while the other four services pass', async (ctx) => {
  await ctx.double.stopService('dynamodb')
  const result = await verify(ctx)
  assert.is(statusOf(result, 'localstack dynamodb'), 'failed')
  assert.match(result.text, /failed\s+localstack dynamodb\n\s+LocalStack at localstack\.homelab\.local: dynamodb is error/)
  for (const service of ['s3', 'sqs', 'sns', 'lambda']) assert.is(statusOf(result, `localstack ${service}`), 'ok', `${service}:\n${result.text}`)
  assert.is(result.failed, 1)
})

Verify('without a Docker engine the lambda step fails with LocalStack\'s reason, and only that step', async (ctx) => {
  await stopAll(ctx)
  await startAll(ctx, 'unavailable')
  const result = await verify(ctx)
  assert.is(statusOf(result, 'localstack lambda'), 'failed')
  assert.match(result.text, /execution is unavailable \(Docker not available in the LocalStack container/)
  assert.is(result.failed, 1, result.text)
})

Verify('with a token, health expects the CalVer pin and persistence passes only when the licence is active', async (ctx) => {
  await stopAll(ctx)
  const tokenConfig = testConfig({ edition: 'token', image: 'localstack/localstack:2026.07.0', authToken: 'ls-verify-test-token-93be' })
  const env = { ...Object.fromEntries(localstackEnv(tokenConfig.localstack).map((e) => [e.name, e.value ?? ''])), LOCALSTACK_AUTH_TOKEN: 'ls-verify-test-token-93be' }
  ctx.stateDir = mkdtempSync(join(tmpdir(), 'localstack-double-'))
  ctx.double = await startLocalstackDouble({ stateDir: ctx.stateDir, ip: '127.0.5.2', port: 0, env, version: '2026.07.0' })
  ctx.front = await startTlsFront({ ip: '127.0.5.1', host: HOST, upstream: ctx.double.url })
  ctx.endpoint = { url: `https://${HOST}:${ctx.front.port}`, connectTo: ctx.front.ip, ca: ctx.front.caPem }
  let text = ''
  const reporter = createReporter({ json: false, out: { write: (s: string) => void (text += s) } })
  const steps = localstackVerifySteps(tokenConfig, async () => ctx.endpoint, { timeoutMs: 20_000 }).filter((s) => ['localstack health', 'localstack persistence'].includes(s.name))
  const result = await runSteps(steps, { title: 'localstack verify', plan: false, reporter })
  assert.is(statusOf(result, 'localstack health'), 'ok', text)
  assert.is(statusOf(result, 'localstack persistence'), 'ok', text)
  assert.not.ok(text.includes('ls-verify-test-token-93be'))
})

Verify.run()
