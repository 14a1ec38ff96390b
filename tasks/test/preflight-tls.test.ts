import { suite } from 'uvu'
import * as assert from 'uvu/assert'
import { createKubeClient, createReporter, parseConfig, runSteps, type KubeClient, type ToolContext } from '@homelab/core'
import { labOptionsFromEnv, reportHookErrors, useLab } from '@homelab/lab'
import { preflightSteps } from '../runbooks/preflight-steps.js'

type Ctx = { kube: KubeClient; kubeconfig: string }
const Tls = suite<Ctx>('preflight: what the certificates are issued from, which bootstrap does not make', {} as Ctx)

Tls.before(reportHookErrors(async (ctx) => {
  const lab = await useLab(labOptionsFromEnv(process.env))
  ctx.kubeconfig = lab.kubeconfigPath
  ctx.kube = createKubeClient({ kubeconfigPath: lab.kubeconfigPath, fieldManager: 'homelab-devtools' })
}))

/** The TLS lines of a cluster preflight for this tls section, run against the lab's API server. */
async function tlsLines(ctx: Ctx, tls: Record<string, unknown>) {
  const config = parseConfig(JSON.stringify({ tls, dns: { piholes: [] }, kubernetes: { kubeconfig: ctx.kubeconfig } }), { sourceName: 'h.yaml', baseDir: '/tmp', env: {} })
  const tool = { config, kube: () => ctx.kube, acceptNewHostKeys: false, signal: new AbortController().signal } as unknown as ToolContext
  const steps = preflightSteps(tool, 'cluster').filter((s) => / present \((for the root CA|tls\.issuer)\)$/.test(s.name)).map((s) => ({ ...s, needs: [] }))
  let output = ''
  const result = await runSteps(steps, { title: 'preflight', plan: true, reporter: createReporter({ json: false, out: { write: (s: string) => void (output += s) } }) })
  return { result, output, names: steps.map((s) => s.name) }
}

Tls('ca mode: the root CA\'s namespace must exist; a missing one names tls.ca.namespace', async (ctx) => {
  const present = await tlsLines(ctx, { ca: { namespace: 'kube-system' } })
  assert.equal([present.names, present.result.ok], [['namespace kube-system present (for the root CA)'], 1], present.output)
  const missing = await tlsLines(ctx, { ca: { namespace: 'no-such-cert-manager' } })
  assert.is(missing.result.failed, 1, missing.output)
  assert.match(missing.output, /no namespace no-such-cert-manager/)
  assert.match(missing.output, /tls\.ca\.namespace/)
})

Tls('acme mode: the issuer tls.issuer names must exist (a namespaced Issuer in each namespace with a Certificate)', async (ctx) => {
  const cluster = await tlsLines(ctx, { mode: 'acme', issuer: { name: 'no-such-letsencrypt' } })
  assert.equal(cluster.names, ['ClusterIssuer no-such-letsencrypt present (tls.issuer)'])
  assert.is(cluster.result.failed, 1, cluster.output)
  assert.match(cluster.output, /kubectl get clusterissuers/)
  await ctx.kube.apply({ apiVersion: 'cert-manager.io/v1', kind: 'ClusterIssuer', metadata: { name: 'preflight-acme-test' }, spec: { selfSigned: {} } }, { dryRun: false, force: true })
  try {
    const present = await tlsLines(ctx, { mode: 'acme', issuer: { name: 'preflight-acme-test' } })
    assert.is(present.result.ok, 1, present.output)
  } finally {
    await ctx.kube.delete({ apiVersion: 'cert-manager.io/v1', kind: 'ClusterIssuer', name: 'preflight-acme-test' })
  }
  const namespaced = await tlsLines(ctx, { mode: 'acme', issuer: { name: 'le', kind: 'Issuer' } })
  assert.equal(namespaced.names, ['Issuer registry/le present (tls.issuer)', 'Issuer localstack/le present (tls.issuer)'])
})

Tls.run()
