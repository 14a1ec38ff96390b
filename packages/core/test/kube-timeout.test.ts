// An API server that accepts the connection and the TLS handshake, then never answers (hung, or SIGSTOPped): every
// request must end after timeouts.kubernetes with an error naming the server, the limit and that key.
import { writeFileSync } from 'node:fs'
import { join } from 'node:path'
import { VersionApi } from '@kubernetes/client-node'
import { reportHookErrors } from '@homelab/lab'
import { suite } from 'uvu'
import * as assert from 'uvu/assert'
import { createKubeClient, createReporter, KubeError, openToolContext } from '../src/index.js'
import { toKubeError } from '../src/kube/kube-client.js'
import { KubeRequestTimeout } from '../src/kube/kube-transport.js'
import { startLocalTlsApi, type LocalTlsApi } from './fixtures/local-tls-api.js'

type Ctx = { api: LocalTlsApi; url: string; dir: string; kubeconfigPath: string }
const Timeout = suite<Ctx>('a Kubernetes API server that never answers', {} as Ctx)

Timeout.before(reportHookErrors(async (ctx) => {
  ctx.api = await startLocalTlsApi()
  Object.assign(ctx, { url: ctx.api.url, dir: ctx.api.dir, kubeconfigPath: ctx.api.kubeconfigPath })
}))
Timeout.after(async (ctx) => {
  await ctx.api?.close()
})

/** The call's error, or a failure if it is still pending after `withinMs` (before the fix it never settled). */
async function failureWithin(call: Promise<unknown>, withinMs: number): Promise<{ error: unknown; ms: number }> {
  const started = Date.now()
  let timer: NodeJS.Timeout | undefined
  const hung = new Promise<'hung'>((resolve) => (timer = setTimeout(() => resolve('hung'), withinMs)))
  const outcome = await Promise.race([call.then(() => 'answered' as const, (error: unknown) => ({ error })), hung])
  clearTimeout(timer)
  if (outcome === 'hung') assert.unreachable(`still waiting after ${withinMs} ms`)
  if (outcome === 'answered') assert.unreachable('a server that never answers answered')
  return { error: (outcome as { error: unknown }).error, ms: Date.now() - started }
}

const assertTimeoutError = (error: unknown, url: string, limit: string) => {
  assert.instance(error, KubeError)
  const e = error as KubeError
  assert.is(e.reason, 'Timeout')
  assert.is(e.key, 'timeouts.kubernetes')
  assert.ok(e.message.includes(url), e.message)
  assert.ok(e.message.includes(limit), e.message)
  assert.match(e.message, /timeouts\.kubernetes/)
}

Timeout('get, create, apply and list each end after requestTimeoutMs, naming the server, the limit and the config key', async (ctx) => {
  const kube = createKubeClient({ kubeconfigPath: ctx.kubeconfigPath, fieldManager: 'kube-timeout-test', requestTimeoutMs: 300 })
  const object = { apiVersion: 'v1', kind: 'ConfigMap', metadata: { name: 'y', namespace: 'x' }, data: {} }
  const calls: [string, () => Promise<unknown>][] = [
    ['get', () => kube.get({ apiVersion: 'v1', kind: 'ConfigMap', namespace: 'x', name: 'y' })],
    ['create', () => kube.create(object)],
    ['apply', () => kube.apply(object, { dryRun: true, force: false })],
    ['list', () => kube.list('v1', 'ConfigMap', { namespace: 'x' })],
  ]
  for (const [name, call] of calls) {
    const { error, ms } = await failureWithin(call(), 5000)
    assertTimeoutError(error, ctx.url, '300ms')
    assert.ok(ms >= 250, `${name} gave up after ${ms} ms, before its limit`)
  }
})

Timeout('a generated API (what preflight asks /version with) ends a second after requestTimeoutMs too', async (ctx) => {
  const kube = createKubeClient({ kubeconfigPath: ctx.kubeconfigPath, fieldManager: 'kube-timeout-test', requestTimeoutMs: 300 })
  const { error, ms } = await failureWithin(kube.makeApiClient(VersionApi).getCode(), 5000)
  assert.instance(error, KubeRequestTimeout)
  assert.ok(ms >= 1250, `gave up after ${ms} ms, before its limit`)
  // What preflight then says: the key to raise, not "unreachable".
  assertTimeoutError(toKubeError('reach', { apiVersion: 'v1', kind: 'Version', name: '/version' }, ctx.url, error), ctx.url, '1300ms')
})

Timeout('a tool context gives its Kubernetes client timeouts.kubernetes from the config', async (ctx) => {
  const config = join(ctx.dir, 'homelab.yaml')
  writeFileSync(config, 'domain: timeout.example\ntimeouts:\n  kubernetes: 400ms\n')
  const tool = openToolContext({ flags: { config, kubeconfig: ctx.kubeconfigPath }, reporter: createReporter({ json: true, out: { write: () => true } }), env: {}, cwd: '/', signal: new AbortController().signal })
  try {
    const { error } = await failureWithin(tool.kube().get({ apiVersion: 'v1', kind: 'Namespace', name: 'homelab' }), 5000)
    assertTimeoutError(error, ctx.url, '400ms')
  } finally {
    await tool.close()
  }
})

Timeout.run()
