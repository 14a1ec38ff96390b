// Bootstrap → the lab kubelet runs the Deployment's image as the LocalStack double → the lab's Traefik double serves
// it on 127.0.2.1:443 with a certificate from the cert-manager double → verify through that HTTPS host, with the CA
// read from the cluster the way the tool does it. Runs only where the lab's controller can play localstack/localstack.
import { existsSync, readFileSync } from 'node:fs'
import { createReporter, openToolContext, runComponents, type KubeObject, type RunResult, type ToolContext } from '@homelab/core'
import { labOptionsFromEnv, repoRoot, useLab, reportHookErrors } from '@homelab/lab'
import { suite } from 'uvu'
import * as assert from 'uvu/assert'
import { localstack } from '../src/index.js'
import { writeTestConfig } from './lab-config.js'

const runners = `${repoRoot()}/packages/lab/src/controller/image-runners.ts`
const labPlaysLocalstack = existsSync(runners) && readFileSync(runners, 'utf8').includes('localstack-double')

type Ctx = { tool: ToolContext; output: () => string; id: string; cleanup: KubeObject[] }
const EndToEnd = suite<Ctx>('localstack on the lab, end to end', {} as Ctx)

/** What the registry package would have made: a self-signed root and a CA ClusterIssuer, named for this test. */
const caObjects = (id: string): KubeObject[] => [
  { apiVersion: 'cert-manager.io/v1', kind: 'ClusterIssuer', metadata: { name: `${id}-selfsigned` }, spec: { selfSigned: {} } },
  {
    apiVersion: 'cert-manager.io/v1',
    kind: 'Certificate',
    metadata: { name: `${id}-root`, namespace: 'cert-manager' },
    spec: { isCA: true, commonName: `${id} root CA`, secretName: `${id}-root`, issuerRef: { name: `${id}-selfsigned`, kind: 'ClusterIssuer', group: 'cert-manager.io' } },
  },
  { apiVersion: 'cert-manager.io/v1', kind: 'ClusterIssuer', metadata: { name: `${id}-ca` }, spec: { ca: { secretName: `${id}-root` } } },
]

EndToEnd.before(reportHookErrors(async (ctx) => {
  const lab = await useLab(labOptionsFromEnv(process.env))
  ctx.id = `ls-e2e-${Date.now().toString(36)}`
  let text = ''
  const reporter = createReporter({ json: false, out: { write: (s: string) => void (text += s) } })
  const tls = { mode: 'ca', ca: { selfSignedIssuer: `${ctx.id}-selfsigned`, certificate: `${ctx.id}-root`, secretName: `${ctx.id}-root`, issuer: `${ctx.id}-ca` } }
  // A host of its own, so the Traefik double routes to this test's pod and no other test's.
  const config = writeTestConfig({ namespace: ctx.id, host: ctx.id }, { ingress: { ip: '127.0.2.1' }, kubernetes: { kubeconfig: lab.kubeconfigPath }, tls, timeouts: { localstackReady: '90s' } })
  ctx.tool = openToolContext({ flags: { config }, reporter, env: {}, cwd: process.cwd(), signal: new AbortController().signal })
  ctx.output = () => text
  ctx.cleanup = caObjects(ctx.id)
  for (const object of ctx.cleanup) await ctx.tool.kube().apply(object, { dryRun: false, force: false })
}))

EndToEnd.after(async (ctx) => {
  const kube = ctx.tool.kube()
  await kube.delete({ apiVersion: 'apps/v1', kind: 'Deployment', namespace: ctx.id, name: 'localstack' })
  await kube.delete({ apiVersion: 'v1', kind: 'Namespace', name: ctx.id })
  for (const object of [...ctx.cleanup].reverse()) await kube.delete({ apiVersion: object.apiVersion, kind: object.kind, name: object.metadata.name, ...(object.metadata.namespace ? { namespace: object.metadata.namespace } : {}) })
})

const statusOf = (result: RunResult, step: string) => result.results.find((r) => r.step === step)?.status

EndToEnd('bootstrap waits for the pod, a second bootstrap changes nothing, and verify passes all five services over HTTPS', async (ctx) => {
  const [first] = await runComponents([localstack], 'bootstrap', ctx.tool)
  assert.is(first!.failed, 0, ctx.output())
  assert.is(statusOf(first!, 'localstack ready'), 'ok', ctx.output())
  const [second] = await runComponents([localstack], 'bootstrap', ctx.tool)
  assert.is(second!.changed, 0, ctx.output())
  const [verified] = await runComponents([localstack], 'verify', ctx.tool)
  for (const service of ['health', 's3', 'sqs', 'sns', 'dynamodb', 'lambda']) assert.is(statusOf(verified!, `localstack ${service}`), 'ok', ctx.output())
  assert.is(statusOf(verified!, 'localstack persistence'), 'skipped')
})

if (labPlaysLocalstack) EndToEnd.run()
else process.stdout.write('localstack end to end: skipped, the lab controller cannot run localstack/localstack here\n')
