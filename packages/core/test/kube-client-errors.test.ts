// What a user reads when the Kubernetes client cannot get an answer: which of the certificate, the credential plugin
// or the address is wrong, each with what to do. Against a stand-in TLS server on loopback.
import { writeFileSync } from 'node:fs'
import { join } from 'node:path'
import { suite } from 'uvu'
import * as assert from 'uvu/assert'
import { createKubeClient, KubeError } from '../src/index.js'
import { startLocalTlsApi, type LocalTlsApi } from './fixtures/local-tls-api.js'

type Ctx = { api: LocalTlsApi }
const Errors = suite<Ctx>('the Kubernetes client\'s failures before any answer', {} as Ctx)

Errors.before(async (ctx) => {
  ctx.api = await startLocalTlsApi((_request, response) => {
    response.setHeader('content-type', 'application/json')
    response.end('{}')
  })
})

Errors.after(async (ctx) => {
  await ctx.api?.close()
})

/** The error of one read through a kubeconfig with this cluster and user. */
async function failure(ctx: Ctx, name: string, cluster: string, user: string): Promise<KubeError & { hint?: string }> {
  const path = join(ctx.api.dir, `kubeconfig-${name}`)
  writeFileSync(path, `apiVersion: v1\nkind: Config\nclusters: [{name: c, cluster: ${cluster}}]\nusers: [{name: u, user: ${user}}]\ncontexts: [{name: k, context: {cluster: c, user: u}}]\ncurrent-context: k\n`)
  const kube = createKubeClient({ kubeconfigPath: path, fieldManager: 'errors-test' })
  const error = await kube.get({ apiVersion: 'v1', kind: 'ConfigMap', namespace: 'x', name: 'a' }).then(() => assert.unreachable('it was answered') as never, (e: unknown) => e)
  assert.instance(error, KubeError)
  return error as KubeError & { hint?: string }
}

Errors('a certificate the kubeconfig\'s CA does not vouch for is told as such, with where the right CA is', async (ctx) => {
  const error = await failure(ctx, 'tls', `{server: "${ctx.api.url}"}`, '{token: x}')
  assert.match(error.message, new RegExp(`^cannot read ConfigMap x/a: API server ${ctx.api.url.replace(/\./g, '\\.')} presented a certificate the kubeconfig does not trust \\(DEPTH_ZERO_SELF_SIGNED_CERT: self-signed certificate\\)`))
  assert.match(String(error.hint), /certificate-authority-data .*\/etc\/rancher\/k3s\/k3s\.yaml/)
})

Errors('a credential plugin that fails is named, with what it said, or that it said nothing', async (ctx) => {
  const insecure = `{server: "${ctx.api.url}", insecure-skip-tls-verify: true}`
  const silent = await failure(ctx, 'exec-silent', insecure, '{exec: {apiVersion: client.authentication.k8s.io/v1beta1, command: /bin/false}}')
  assert.match(silent.message, /^cannot read ConfigMap x\/a: the kubeconfig user's credential plugin \/bin\/false failed \(it exited non-zero and said nothing\)/)
  assert.match(String(silent.hint), /run \/bin\/false by hand/)
  const script = join(ctx.api.dir, 'expired-login.sh')
  writeFileSync(script, '#!/bin/sh\necho "error: your login expired; run the login command again" >&2\nexit 1\n', { mode: 0o755 })
  const said = await failure(ctx, 'exec-said', insecure, `{exec: {apiVersion: client.authentication.k8s.io/v1beta1, command: ${script}}}`)
  assert.match(said.message, /credential plugin \S+expired-login\.sh failed: error: your login expired; run the login command again/)
})

Errors('nothing listening at the address is still "unreachable", a credential plugin or not', async (ctx) => {
  for (const user of ['{token: x}', '{exec: {apiVersion: client.authentication.k8s.io/v1beta1, command: /bin/echo, args: [\'{"apiVersion":"client.authentication.k8s.io/v1beta1","kind":"ExecCredential","status":{"token":"t"}}\']}}']) {
    const error = await failure(ctx, 'refused', '{server: "https://127.0.0.1:1", insecure-skip-tls-verify: true}', user)
    assert.match(error.message, /^cannot read ConfigMap x\/a: API server https:\/\/127\.0\.0\.1:1 unreachable \(connect ECONNREFUSED 127\.0\.0\.1:1\)/, user)
    assert.match(String(error.hint), /check that the cluster is up/)
  }
})

Errors.run()
