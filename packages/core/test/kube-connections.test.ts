// How many connections the Kubernetes client keeps to the API server: a few, reused, however many calls are in flight.
import { readFileSync, writeFileSync } from 'node:fs'
import { createServer, type IncomingMessage, type ServerResponse } from 'node:http'
import { connect, type Socket } from 'node:net'
import { join } from 'node:path'
import { reportHookErrors } from '@homelab/lab'
import { suite } from 'uvu'
import * as assert from 'uvu/assert'
import { createKubeClient, KubeError } from '../src/index.js'
import { KUBE_API_CONNECTIONS } from '../src/kube/kube-transport.js'
import { startLocalTlsApi, type LocalTlsApi } from './fixtures/local-tls-api.js'

type Ctx = { answering: LocalTlsApi; hung: LocalTlsApi }
const Connections = suite<Ctx>('connections to the API server', {} as Ctx)

const DISCOVERY = { kind: 'APIResourceList', groupVersion: 'v1', resources: [{ name: 'configmaps', singularName: 'configmap', namespaced: true, kind: 'ConfigMap', verbs: ['get'] }] }

/**
 * API discovery of v1, and a ConfigMap named by the path's last segment 30 ms after the request, so calls overlap:
 * with a Content-Length for even numbers, chunked for odd ones (as the API server sends any object over a few kB).
 */
const configMaps = (request: IncomingMessage, response: ServerResponse) => {
  const path = (request.url ?? '').split('?')[0]!
  const name = path.split('/').pop()!
  const json = JSON.stringify(path === '/api/v1' ? DISCOVERY : { apiVersion: 'v1', kind: 'ConfigMap', metadata: { name, namespace: 'x' }, data: { name } })
  const chunked = Number(name.replace(/\D/g, '')) % 2 === 1
  setTimeout(() => {
    response.writeHead(200, { 'content-type': 'application/json', ...(chunked ? {} : { 'content-length': String(Buffer.byteLength(json)) }) })
    if (chunked) response.write(json.slice(0, 20))
    response.end(chunked ? json.slice(20) : json)
  }, 30)
}

Connections.before(reportHookErrors(async (ctx) => {
  ctx.answering = await startLocalTlsApi(configMaps)
  ctx.hung = await startLocalTlsApi()
}))
Connections.after(async (ctx) => {
  await ctx.answering?.close()
  await ctx.hung?.close()
})

Connections(`twelve calls at once share ${KUBE_API_CONNECTIONS} connections, and each gets its own answer`, async ({ answering }) => {
  const kube = createKubeClient({ kubeconfigPath: answering.kubeconfigPath, fieldManager: 'connections-test' })
  const names = Array.from({ length: 12 }, (_, i) => `cm-${i}`)
  const got = await Promise.all(names.map((name) => kube.get({ apiVersion: 'v1', kind: 'ConfigMap', namespace: 'x', name })))
  assert.equal(got.map((o) => (o?.['data'] as { name: string }).name), names)
  assert.is(answering.mostOpen, KUBE_API_CONNECTIONS)
})

Connections('calls waiting for a connection to a hung server still end after the request timeout', async ({ hung }) => {
  const kube = createKubeClient({ kubeconfigPath: hung.kubeconfigPath, fieldManager: 'connections-test', requestTimeoutMs: 300 })
  const started = Date.now()
  const calls = Array.from({ length: KUBE_API_CONNECTIONS + 2 }, (_, i) => kube.get({ apiVersion: 'v1', kind: 'ConfigMap', namespace: 'x', name: `cm-${i}` }).then(() => 'answered', (error: unknown) => error))
  const outcomes = await Promise.all(calls)
  for (const outcome of outcomes) {
    assert.instance(outcome, KubeError)
    assert.is((outcome as KubeError).reason, 'Timeout')
  }
  assert.ok(Date.now() - started < 5000, `took ${Date.now() - started} ms`)
})

Connections('a cluster behind proxy-url is reached through the proxy (CONNECT), not past it', async ({ answering }) => {
  const tunnels: string[] = []
  const sockets = new Set<Socket>()
  const proxy = createServer().on('connect', (request: IncomingMessage, client: Socket, head: Buffer) => {
    tunnels.push(request.url ?? '')
    sockets.add(client)
    const [host, port] = (request.url ?? '').split(':')
    const upstream = connect(Number(port), host, () => {
      client.write('HTTP/1.1 200 Connection Established\r\n\r\n')
      upstream.write(head)
      upstream.pipe(client)
      client.pipe(upstream)
    })
    sockets.add(upstream)
    upstream.on('error', () => client.destroy())
    client.on('error', () => upstream.destroy())
  })
  await new Promise<void>((resolve) => proxy.listen(0, '127.0.0.1', resolve))
  try {
    const proxyUrl = `http://127.0.0.1:${(proxy.address() as { port: number }).port}`
    const kubeconfigPath = join(answering.dir, 'kubeconfig-proxied')
    writeFileSync(kubeconfigPath, readFileSync(answering.kubeconfigPath, 'utf8').replace('insecure-skip-tls-verify: true}', `insecure-skip-tls-verify: true, proxy-url: "${proxyUrl}"}`))
    const kube = createKubeClient({ kubeconfigPath, fieldManager: 'connections-test' })
    const got = await kube.get({ apiVersion: 'v1', kind: 'ConfigMap', namespace: 'x', name: 'cm-1' })
    assert.equal(got?.['data'], { name: 'cm-1' })
    assert.ok(tunnels.includes(new URL(answering.url).host), `tunnels: ${tunnels.join(', ')}`)
  } finally {
    for (const socket of sockets) socket.destroy()
    await new Promise((resolve) => proxy.close(resolve))
  }
})

Connections.run()
