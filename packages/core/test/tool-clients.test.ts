// ToolClients, what the tasks of one pipeline share: the config read once, and a Kubernetes client that asks the API
// server for an API group's resources once however many calls start together.
import dc from 'node:diagnostics_channel'
import { mkdtempSync, writeFileSync } from 'node:fs'
import { tmpdir } from 'node:os'
import { join } from 'node:path'
import { labOptionsFromEnv, reportHookErrors, useLab } from '@homelab/lab'
import { suite } from 'uvu'
import * as assert from 'uvu/assert'
import { ConfigError, ToolClients, type KubeClient } from '../src/index.js'

type Ctx = { kubeconfigPath: string; ns: string; admin: KubeClient }
const Clients = suite<Ctx>('tool clients shared by a pipeline', {} as Ctx)

Clients.before(reportHookErrors(async (ctx) => {
  const lab = await useLab(labOptionsFromEnv(process.env))
  ctx.kubeconfigPath = lab.kubeconfigPath
  ctx.ns = `tool-clients-${Date.now()}`
  ctx.admin = new ToolClients().kube({ kubeconfigPath: lab.kubeconfigPath, fieldManager: 'tool-clients-test' })
  await ctx.admin.apply({ apiVersion: 'v1', kind: 'Namespace', metadata: { name: ctx.ns } }, { dryRun: false, force: false })
}))
Clients.after(async (ctx) => {
  await ctx.admin?.delete({ apiVersion: 'v1', kind: 'Namespace', name: ctx.ns })
})

const configFile = (text: string) => {
  const path = join(mkdtempSync(join(tmpdir(), 'tool-clients-')), 'homelab.yaml')
  writeFileSync(path, text)
  return path
}

Clients('a shared value opens once for every caller, a failed open is not kept, and close() closes each one, failures and all', async () => {
  const clients = new ToolClients()
  const key = {}
  let opens = 0
  const closed: string[] = []
  const open = async () => `value ${++opens}`
  const [a, b] = await Promise.all([clients.shared.get(key, open, async (v) => void closed.push(v)), clients.shared.get(key, open, async (v) => void closed.push(v))])
  assert.equal([a, b, opens], ['value 1', 'value 1', 1])
  const failing = {}
  await clients.shared.get(failing, () => Promise.reject(new Error('refused')), async () => undefined).then(() => assert.unreachable('opened'), (e: Error) => assert.is(e.message, 'refused'))
  assert.is(await clients.shared.get(failing, async () => 'second try', async () => Promise.reject(new Error('cannot close'))), 'second try')
  await clients.shared.discard(key)
  assert.equal(closed, ['value 1'])
  assert.is(await clients.shared.get(key, open, async (v) => void closed.push(v)), 'value 2', 'a discarded value was handed out again')
  await clients.close()
  assert.equal(closed, ['value 1', 'value 2'])
})

Clients('the config is read and validated once per file and environment, and is the same object for every task', () => {
  const clients = new ToolClients()
  const env = {}
  const path = configFile('domain: once.example\n')
  const first = clients.config({ configPath: path, cwd: '/', env })
  writeFileSync(path, 'domain: edited.example\n')
  const second = clients.config({ configPath: path, cwd: '/', env })
  assert.is(second, first, 'a second task got a config of its own')
  assert.is(second.domain, 'once.example', 'an edit during the run reached a later task')
  const otherEnv = clients.config({ configPath: path, cwd: '/', env: {} })
  assert.is(otherEnv.domain, 'edited.example', 'another environment must read the file for itself')
})

Clients('a config that fails is not kept: every task reports the error itself', () => {
  const clients = new ToolClients()
  const env = {}
  const path = configFile('domain: [not, a, name]\n')
  for (let i = 0; i < 2; i++) {
    try {
      clients.config({ configPath: path, cwd: '/', env })
      assert.unreachable('a bad config loaded')
    } catch (error) {
      assert.instance(error, ConfigError)
      assert.match((error as Error).message, /domain/)
    }
  }
})

Clients('twenty reads of one API group started together make one discovery request, not twenty, each naming the tool as its user agent', async (ctx) => {
  const kube = new ToolClients().kube({ kubeconfigPath: ctx.kubeconfigPath, fieldManager: 'tool-clients-test' })
  const paths: string[] = []
  const agents = new Set<string>()
  // Every request the Kubernetes client sends, as undici starts it (headers: name, value, name, value…).
  const listener = ({ request }: { request: { path: string; headers: string | string[] } }) => {
    paths.push(request.path)
    const headers = typeof request.headers === 'string' ? request.headers.split('\r\n').flatMap((line) => line.split(/: ?/, 2)) : request.headers
    for (let i = 0; i < headers.length; i += 2) if (headers[i]!.toLowerCase() === 'user-agent') agents.add(headers[i + 1]!)
  }
  dc.subscribe('undici:request:create', listener as (message: unknown) => void)
  try {
    const names = Array.from({ length: 20 }, (_, i) => `absent-${i}`)
    const found = await Promise.all(names.map((name) => kube.get({ apiVersion: 'apps/v1', kind: 'Deployment', name, namespace: ctx.ns })))
    assert.equal(found, names.map(() => undefined))
    await kube.get({ apiVersion: 'apps/v1', kind: 'StatefulSet', name: 'absent', namespace: ctx.ns })
  } finally {
    dc.unsubscribe('undici:request:create', listener as (message: unknown) => void)
  }
  assert.is(paths.filter((p) => p === '/apis/apps/v1').length, 1, paths.join('\n'))
  assert.is(paths.filter((p) => p.includes('/deployments/absent-')).length, 20)
  assert.equal([...agents], ['homelab-devtools'], 'every request names the tool (the API server\'s audit log shows who called)')
})

Clients('a kind the group does not have still fails as a missing kind, for every caller', async (ctx) => {
  const kube = new ToolClients().kube({ kubeconfigPath: ctx.kubeconfigPath, fieldManager: 'tool-clients-test' })
  const results = await Promise.allSettled([1, 2, 3].map(() => kube.get({ apiVersion: 'apps/v1', kind: 'NoSuchKind', name: 'x', namespace: ctx.ns })))
  for (const result of results) {
    assert.is(result.status, 'rejected')
    assert.match(String((result as PromiseRejectedResult).reason), /NoSuchKind/)
  }
})

Clients('serves: what discovery lists is served; a kind the group lacks, or a group the server lacks, is not', async (ctx) => {
  const kube = new ToolClients().kube({ kubeconfigPath: ctx.kubeconfigPath, fieldManager: 'tool-clients-test' })
  assert.ok(await kube.serves('apps/v1', 'Deployment'))
  assert.ok(await kube.serves('cert-manager.io/v1', 'ClusterIssuer'))
  assert.not.ok(await kube.serves('apps/v1', 'NoSuchKind'))
  assert.not.ok(await kube.serves('cert-manager.io/v1alpha0', 'Certificate'))
  assert.not.ok(await kube.serves('nothing-here.example.com/v1', 'Widget'))
})

Clients.run()
