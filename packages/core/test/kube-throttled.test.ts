// A busy API server's 429 (API Priority and Fairness) against a stand-in server that can be made to answer it.
import { ApiException } from '@kubernetes/client-node'
import { suite } from 'uvu'
import * as assert from 'uvu/assert'
import { createKubeClient, KubeError } from '../src/index.js'
import { throttledFor } from '../src/kube/kube-client.js'
import { startLocalTlsApi, type LocalTlsApi } from './fixtures/local-tls-api.js'

type Ctx = { api: LocalTlsApi; throttle: number; requests: string[] }
const Throttled = suite<Ctx>('a 429 from a busy API server', {} as Ctx)

const configMap = (name: string) => ({ apiVersion: 'v1', kind: 'ConfigMap', metadata: { name, namespace: 'x' }, data: { name } })

Throttled.before(async (ctx) => {
  ctx.requests = []
  ctx.api = await startLocalTlsApi((request, response) => {
    ctx.requests.push(`${request.method} ${request.url}`)
    response.setHeader('content-type', 'application/json')
    if (request.url === '/api/v1') {
      response.end(JSON.stringify({ kind: 'APIResourceList', groupVersion: 'v1', resources: [{ name: 'configmaps', namespaced: true, kind: 'ConfigMap', verbs: ['get', 'create'] }] }))
      return
    }
    if (ctx.throttle > 0) {
      ctx.throttle--
      response.statusCode = 429
      response.setHeader('retry-after', '1')
      response.end(JSON.stringify({ kind: 'Status', apiVersion: 'v1', status: 'Failure', message: 'Too many requests, please try again later.', reason: 'TooManyRequests', code: 429 }))
      return
    }
    const name = decodeURIComponent(request.url!.split('?')[0]!.split('/').pop()!)
    response.statusCode = request.method === 'POST' ? 201 : 200
    response.end(JSON.stringify(configMap(request.method === 'POST' ? 'created' : name)))
  })
})

Throttled.after(async (ctx) => {
  await ctx.api?.close()
})

Throttled('a get and a create answered 429 are sent again after Retry-After, and succeed', async (ctx) => {
  const kube = createKubeClient({ kubeconfigPath: ctx.api.kubeconfigPath, fieldManager: 'throttled-test' })
  ctx.throttle = 1
  const started = Date.now()
  assert.equal((await kube.get({ apiVersion: 'v1', kind: 'ConfigMap', namespace: 'x', name: 'cm-1' }))?.['data'], { name: 'cm-1' })
  assert.ok(Date.now() - started >= 900, `waited ${Date.now() - started} ms, not the second Retry-After asked for`)
  ctx.throttle = 2
  ctx.requests.length = 0
  assert.is((await kube.create(configMap('new'))).metadata.name, 'created')
  assert.equal(ctx.requests.filter((r) => r.startsWith('POST')).length, 3, 'refused twice before it ran, so sent three times')
})

Throttled('three 429s in a row fail the call, with the status and what to do', async (ctx) => {
  const kube = createKubeClient({ kubeconfigPath: ctx.api.kubeconfigPath, fieldManager: 'throttled-test' })
  ctx.throttle = 3
  const error = await kube.get({ apiVersion: 'v1', kind: 'ConfigMap', namespace: 'x', name: 'cm-2' }).then(() => assert.unreachable('it was answered'), (e: unknown) => e)
  assert.instance(error, KubeError)
  assert.match((error as Error).message, /^cannot read ConfigMap x\/cm-2: 429 TooManyRequests Too many requests/)
  assert.is((error as KubeError).status, 429)
  assert.match(String((error as KubeError).hint), /too busy to answer \(asked 3 times/)
})

Throttled('Retry-After: its seconds, at most 10 s; 1 s without it; nothing for other failures', () => {
  const throttled = (headers: Record<string, string>) => new ApiException(429, 'Too many requests', '{}', headers)
  assert.is(throttledFor(throttled({ 'Retry-After': '2' })), 2000)
  assert.is(throttledFor(throttled({ 'retry-after': '600' })), 10_000)
  assert.is(throttledFor(throttled({})), 1000)
  assert.is(throttledFor(throttled({ 'retry-after': 'Wed, 21 Oct 2026 07:28:00 GMT' })), 1000)
  assert.is(throttledFor(new ApiException(500, 'Internal', '{}', {})), undefined)
  assert.is(throttledFor(new Error('socket hang up')), undefined)
})

Throttled.run()
