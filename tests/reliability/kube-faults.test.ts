// Faults of the cluster side, on real programs: a kube-apiserver of our own (over the lab's etcd) that is killed before
// and during a bootstrap, a field owned by another manager, two bootstraps at once, Ctrl-C in the middle, and a
// Certificate cert-manager can never satisfy. Each: a message that names what failed and what to do, foreign objects
// untouched, and a next run that converges (changed, then changed=0).
import { existsSync, mkdtempSync, readdirSync, readFileSync, writeFileSync } from 'node:fs'
import { tmpdir } from 'node:os'
import { join } from 'node:path'
import { createKubeClient, toolNamespace, type KubeClient } from '@homelab/core'
import { registry } from '@homelab/registry'
import { labControllerStatus, repoRoot, reportHookErrors, serveCertificateFromAnotherCa } from '@homelab/lab'
import { setTimeout as sleep } from 'node:timers/promises'
import { suite } from 'uvu'
import * as assert from 'uvu/assert'
import { deleteNamespace, useLabKube, type LabKube } from './support/lab-kube.js'
import { KNOWN_SECRETS, LeakScan } from './support/leak-scan.js'
import { kubeconfigText, privateApiServer, type PrivateApiServer } from './support/private-api-server.js'
import { reliabilityCase } from './support/reliability-tally.js'
import { changedSteps, hasStackTrace, recapOf, runComponents, spawnTask, writeConfigFile, type ToolRun } from './support/tool-run.js'

type Ctx = { lab: LabKube; api: PrivateApiServer; stamp: string; scan: LeakScan; namespaces: string[]; foreign: Map<string, string> }
const Kube = suite<Ctx>('cluster faults: named failures, nothing foreign touched, the next run converges', {} as Ctx)

const COMPONENTS = [toolNamespace, registry]
const FOREIGN_MANAGER = 'someone-elses-operator'
const SHARED_SINGLETON = 'apply ConfigMap kube-public/local-registry-hosting'

function registryConfig(ctx: Ctx, options: { kubeconfig: string; namespace: string; tls?: Record<string, unknown> }): string {
  return writeConfigFile({
    domain: 'homelab.local',
    ingress: { ip: '127.0.2.1' },
    kubernetes: { kubeconfig: options.kubeconfig, namespace: `rel-tool-${ctx.stamp}` },
    tls: options.tls ?? { ca: { selfSignedIssuer: `rel-${ctx.stamp}-selfsigned`, certificate: `rel-${ctx.stamp}-root-ca`, secretName: `rel-${ctx.stamp}-root-ca`, issuer: `rel-${ctx.stamp}-ca` } },
    // Host names of its own: the shared lab's Traefik routes registry.homelab.local to whichever test applied it last.
    registry: { namespace: options.namespace, hosts: { registry: `${options.namespace}-reg`, ui: `${options.namespace}-ui` }, users: [{ name: 'admin', password: KNOWN_SECRETS.registryPassword }] },
    localstack: { enabled: false },
    dns: { piholes: [] },
    nodes: [],
    timeouts: { kubernetes: '5s', certificate: '60s', rollout: '90s' },
  })
}

const bootstrap = (ctx: Ctx, configPath: string, options: { args?: string[]; onOutput?: (o: string) => void } = {}) =>
  runComponents(COMPONENTS, 'bootstrap', { configPath, scan: ctx.scan, ...options })

/** A ConfigMap nobody gave us, in a namespace we manage: its resourceVersion must never move. */
async function seedForeign(ctx: Ctx, kube: KubeClient, namespace: string): Promise<void> {
  const other = createKubeClient({ kubeconfigPath: ctx.lab.kubeconfigPath, fieldManager: FOREIGN_MANAGER })
  await other.apply({ apiVersion: 'v1', kind: 'Namespace', metadata: { name: namespace } }, { dryRun: false, force: false })
  const applied = await other.apply({ apiVersion: 'v1', kind: 'ConfigMap', metadata: { name: 'not-ours', namespace }, data: { owner: 'someone else' } }, { dryRun: false, force: false })
  ctx.foreign.set(namespace, applied.metadata.resourceVersion!)
  void kube
}

async function assertForeignUntouched(ctx: Ctx): Promise<void> {
  for (const [namespace, version] of ctx.foreign) {
    const object = await ctx.lab.kube.get({ apiVersion: 'v1', kind: 'ConfigMap', name: 'not-ours', namespace })
    assert.is(object?.metadata.resourceVersion, version, `the foreign ConfigMap in ${namespace} was touched`)
  }
}

/** The next run changes what the fault left undone; the one after changes nothing. */
async function assertConverges(ctx: Ctx, configPath: string, options: { expectChange: boolean }): Promise<void> {
  const next = await bootstrap(ctx, configPath)
  assert.is(next.code, 0, next.output)
  if (options.expectChange) assert.ok((recapOf(next.output, 'registry')?.changed ?? 0) > 0, `the next run changed nothing:\n${next.output}`)
  const again = await bootstrap(ctx, configPath)
  assert.is(again.code, 0, again.output)
  // kube-public/local-registry-hosting is one per cluster: any other registry test sharing the lab rewrites it.
  assert.equal(changedSteps(again.output).filter((s) => s !== SHARED_SINGLETON), [], again.output)
  await assertForeignUntouched(ctx)
}

const assertReadable = (run: ToolRun) => assert.not.ok(hasStackTrace(run.output), `a stack trace instead of a message:\n${run.output}`)

Kube.before(reportHookErrors(async (ctx) => {
  ctx.lab = await useLabKube()
  ctx.stamp = Date.now().toString(36)
  ctx.scan = new LeakScan()
  ctx.namespaces = []
  ctx.foreign = new Map()
  ctx.api = privateApiServer({ dir: mkdtempSync(join(tmpdir(), 'reliability-apiserver-')), labStateDir: ctx.lab.stateDir })
  await ctx.api.start()
  ctx.scan.startArgv()
}))

Kube.after(async (ctx) => {
  ctx.scan?.stopArgv()
  await ctx.api?.stop()
  for (const ns of [...(ctx.namespaces ?? []), `rel-tool-${ctx.stamp}`]) await deleteNamespace(ctx.lab?.kube, ns)
  for (const name of [`rel-${ctx.stamp}-selfsigned`, `rel-${ctx.stamp}-ca`]) await ctx.lab?.kube.delete({ apiVersion: 'cert-manager.io/v1', kind: 'ClusterIssuer', name })
  await ctx.lab?.kube.delete({ apiVersion: 'cert-manager.io/v1', kind: 'Certificate', name: `rel-${ctx.stamp}-root-ca`, namespace: 'cert-manager' })
})

const newNamespace = async (ctx: Ctx, suffix: string) => {
  const ns = `rel-${suffix}-${ctx.stamp}`
  ctx.namespaces.push(ns)
  await seedForeign(ctx, ctx.lab.kube, ns)
  return ns
}

reliabilityCase(Kube, 'fault', 'API server down before bootstrap: exit 1 naming the server and what to check; after it is back the next run converges', async (ctx) => {
  const ns = await newNamespace(ctx, 'down')
  const configPath = registryConfig(ctx, { kubeconfig: ctx.api.kubeconfigPath, namespace: ns })
  ctx.api.kill()
  const run = await bootstrap(ctx, configPath)
  assert.is(run.code, 1, run.output)
  assert.match(run.output, new RegExp(`API server ${ctx.api.server.replaceAll('.', '\\.')} unreachable`))
  assert.match(run.output, /check that the cluster is up and the kubeconfig points at it/)
  assertReadable(run)
  await ctx.api.start()
  await assertConverges(ctx, configPath, { expectChange: true })
})

reliabilityCase(Kube, 'fault', 'API server killed during bootstrap: the run ends (no hang) naming the server; its lock says how to clear it; then the run converges', async (ctx) => {
  const ns = await newNamespace(ctx, 'killed')
  const configPath = registryConfig(ctx, { kubeconfig: ctx.api.kubeconfigPath, namespace: ns })
  let killed = false
  const run = await bootstrap(ctx, configPath, {
    onOutput: (output) => {
      // Strike after the first object went in, while the rest is still to come.
      if (!killed && /^changed\s+apply \S+ rel-killed/m.test(output)) {
        killed = true
        ctx.api.kill()
      }
    },
  })
  assert.ok(killed, `the kill never landed:\n${run.output}`)
  assert.is(run.code, 1, run.output)
  assert.match(run.output, new RegExp(`${ctx.api.server.replaceAll('.', '\\.')} unreachable`))
  assertReadable(run)
  await ctx.api.start()
  // The lock could not be released while the server was gone: the next run is refused with the way out, not ignored.
  let next = await bootstrap(ctx, configPath)
  if (next.code !== 0) {
    assert.match(next.output, new RegExp(`another run holds rel-tool-${ctx.stamp}/run-lock-registry`))
    assert.match(next.output, new RegExp(`delete ConfigMap rel-tool-${ctx.stamp}/run-lock-registry`))
    await ctx.lab.kube.delete({ apiVersion: 'v1', kind: 'ConfigMap', namespace: `rel-tool-${ctx.stamp}`, name: 'run-lock-registry' })
    next = await bootstrap(ctx, configPath)
  }
  assert.is(next.code, 0, next.output)
  await assertConverges(ctx, configPath, { expectChange: false })
})

reliabilityCase(Kube, 'fault', 'kubeconfig CA that did not sign the API server certificate: refused naming the server, nothing applied; with the right CA the run converges', async (ctx) => {
  const ns = await newNamespace(ctx, 'wrongca')
  const wrongCa = readFileSync(join(ctx.lab.stateDir, 'certs', 'apiserver.crt'))
  const token = JSON.parse(readFileSync(ctx.api.kubeconfigPath, 'utf8')).users[0].user.token as string
  const kubeconfig = join(mkdtempSync(join(tmpdir(), 'reliability-kubeconfig-')), 'kubeconfig')
  writeFileSync(kubeconfig, kubeconfigText(ctx.api.server, wrongCa, token), { mode: 0o600 })
  const run = await bootstrap(ctx, registryConfig(ctx, { kubeconfig, namespace: ns }))
  assert.is(run.code, 1, run.output)
  assert.match(run.output, new RegExp(ctx.api.server.replaceAll('.', '\\.')))
  assert.match(run.output, /certificate|self.signed|verify/i)
  assert.not.match(run.output, /^changed\s/m)
  assertReadable(run)
  await assertConverges(ctx, registryConfig(ctx, { kubeconfig: ctx.api.kubeconfigPath, namespace: ns }), { expectChange: true })
})

reliabilityCase(Kube, 'fault', 'kubeconfig token the API server does not know (401): fails naming Unauthorized and the kubeconfig, nothing applied; a valid token converges', async (ctx) => {
  const ns = ctx.namespaces.find((n) => n.startsWith('rel-wrongca-'))!
  const config = JSON.parse(readFileSync(ctx.api.kubeconfigPath, 'utf8'))
  config.users[0].user.token = 'not-a-token-this-server-knows'
  const kubeconfig = join(mkdtempSync(join(tmpdir(), 'reliability-kubeconfig-')), 'kubeconfig')
  writeFileSync(kubeconfig, JSON.stringify(config), { mode: 0o600 })
  const run = await bootstrap(ctx, registryConfig(ctx, { kubeconfig, namespace: ns }))
  assert.is(run.code, 1, run.output)
  assert.match(run.output, /401|Unauthorized/)
  assert.not.match(run.output, /^changed\s/m)
  assertReadable(run)
  await assertConverges(ctx, registryConfig(ctx, { kubeconfig: ctx.api.kubeconfigPath, namespace: ns }), { expectChange: false })
})

reliabilityCase(Kube, 'fault', 'a user RBAC forbids to write (403): fails naming Forbidden and the object, nothing applied; with rights the run converges', async (ctx) => {
  const ns = ctx.namespaces.find((n) => n.startsWith('rel-wrongca-'))!
  const run = await bootstrap(ctx, registryConfig(ctx, { kubeconfig: ctx.api.viewerKubeconfigPath, namespace: ns }))
  assert.is(run.code, 1, run.output)
  assert.match(run.output, /403|[Ff]orbidden/)
  assert.not.match(run.output, /^changed\s/m)
  assertReadable(run)
  await assertConverges(ctx, registryConfig(ctx, { kubeconfig: ctx.api.kubeconfigPath, namespace: ns }), { expectChange: false })
})

reliabilityCase(Kube, 'fault', 'preflight as a user without rights: every access check fails naming the verbs it may not use and the fix; as cluster-admin each passes', async (ctx) => {
  const ns = ctx.namespaces.find((n) => n.startsWith('rel-wrongca-'))!
  const preflight = (kubeconfig: string) => spawnTask('tasks/preflight.ts', ['--config', registryConfig(ctx, { kubeconfig, namespace: ns })], { scan: ctx.scan })
  const denied = await preflight(ctx.api.viewerKubeconfigPath)
  assert.is(denied.code, 1, denied.output)
  // The one "may do anything" review says no for this user, so each need is asked verb by verb and named.
  assert.match(denied.output, /failed\s+may get,list,create,patch,delete namespaces/)
  assert.match(denied.output, /the kubeconfig's user may not get, list, create, patch, delete namespaces/)
  assert.match(denied.output, new RegExp(`may not get, list, create, patch, delete secrets in namespace ${ns}`))
  assert.match(denied.output, /grant it \(a Role\/ClusterRole with these verbs bound to that user\)/)
  assertReadable(denied)
  const admin = await preflight(ctx.api.kubeconfigPath)
  assert.not.match(admin.output, /failed\s+may /, admin.output)
  assert.match(admin.output, /ok\s+may get,list,create,patch,delete namespaces/)
})

reliabilityCase(Kube, 'fault', 'a field owned by another field manager: the step fails naming both managers and --force-conflicts; their value stays; --force-conflicts converges', async (ctx) => {
  const ns = ctx.namespaces.find((n) => n.startsWith('rel-down-'))!
  const configPath = registryConfig(ctx, { kubeconfig: ctx.lab.kubeconfigPath, namespace: ns })
  assert.is((await bootstrap(ctx, configPath)).code, 0)
  const other = createKubeClient({ kubeconfigPath: ctx.lab.kubeconfigPath, fieldManager: FOREIGN_MANAGER })
  const ref = { apiVersion: 'v1', kind: 'Service', name: 'registry', namespace: ns }
  // Their controller takes over a label we set, with force, as `kubectl apply --server-side --force-conflicts` would.
  await other.apply({ apiVersion: 'v1', kind: 'Service', metadata: { name: 'registry', namespace: ns, labels: { 'app.kubernetes.io/part-of': 'their-platform' } } }, { dryRun: false, force: true })
  const labelOf = async () => ((await ctx.lab.kube.get(ref))!.metadata['labels'] as Record<string, string>)['app.kubernetes.io/part-of']
  const run = await bootstrap(ctx, configPath)
  assert.is(run.code, 1, run.output)
  assert.match(run.output, new RegExp(`failed\\s+apply Service ${ns}/registry`))
  assert.match(run.output, new RegExp(FOREIGN_MANAGER))
  assert.match(run.output, /--force-conflicts/)
  assertReadable(run)
  assert.is(await labelOf(), 'their-platform', 'their value was overwritten without --force-conflicts')
  const forced = await bootstrap(ctx, configPath, { args: ['--force-conflicts'] })
  assert.is(forced.code, 0, forced.output)
  assert.match(forced.output, new RegExp(`changed\\s+apply Service ${ns}/registry`))
  assert.is(await labelOf(), 'homelab-devtools')
  await assertConverges(ctx, configPath, { expectChange: false })
})

reliabilityCase(Kube, 'fault', 'registry process killed during verify (retries 1): the checks that hit it fail by name, the run ends; once the kubelet restarted it, the next verify passes', async (ctx) => {
  const ns = ctx.namespaces.find((n) => n.startsWith('rel-down-'))!
  const configPath = registryConfig(ctx, { kubeconfig: ctx.lab.kubeconfigPath, namespace: ns })
  const pod = () => labControllerStatus(ctx.lab.stateDir).pods.find((p) => p.kind === 'deployment' && p.namespace === ns && p.name === 'registry')
  const before = pod()
  assert.ok(before?.alive && before.pid, 'the registry pod is not running before verify')
  let killed = false
  const run = await runComponents([registry], 'verify', {
    configPath,
    scan: ctx.scan,
    // With the default retries the lab kubelet restarts the registry (after 1 s) before the client gives up.
    env: { HOMELAB_RETRIES__ATTEMPTS: '1' },
    onOutput: (output) => {
      // As soon as the verify run has started: its steps run four at a time and finish within a second.
      if (!killed && /^== registry/m.test(output)) {
        killed = true
        // The pod's whole process group: the registry program and the shell the lab kubelet runs it from.
        process.kill(-before.pid!, 'SIGKILL')
      }
    },
  })
  assert.ok(killed, `the kill never landed:\n${run.output}`)
  assert.is(run.code, 1, run.output)
  assert.match(run.output, /^failed\s+registry /m)
  assert.match(run.output, /recap registry: ok=\d+ changed=0 failed=[1-9]/)
  assertReadable(run)
  for (const deadline = Date.now() + 60_000; !(pod()?.alive && pod()?.pid !== before.pid) && Date.now() < deadline; ) await sleep(250)
  let next = await runComponents([registry], 'verify', { configPath, scan: ctx.scan })
  // The restarted registry needs a moment before its readiness probe passes and Traefik routes to it again.
  for (let tries = 0; next.code !== 0 && tries < 10; tries++) {
    await sleep(1000)
    next = await runComponents([registry], 'verify', { configPath, scan: ctx.scan })
  }
  assert.is(next.code, 0, next.output)
  await assertForeignUntouched(ctx)
})

reliabilityCase(Kube, 'fault', 'Traefik serving the registry host a certificate from another CA: verify fails naming the TLS failure, the CA it trusts, the issuer served and what to check; nothing changed; once removed verify passes', async (ctx) => {
  const ns = ctx.namespaces.find((n) => n.startsWith('rel-down-'))!
  const configPath = registryConfig(ctx, { kubeconfig: ctx.lab.kubeconfigPath, namespace: ns })
  const host = `${ns}-reg.homelab.local`
  const versions = async () => {
    const kinds = [['v1', 'ConfigMap'], ['v1', 'Secret'], ['v1', 'Service'], ['traefik.io/v1alpha1', 'IngressRoute'], ['cert-manager.io/v1', 'Certificate']] as const
    const lists = await Promise.all(kinds.map(([apiVersion, kind]) => ctx.lab.kube.list(apiVersion, kind, { namespace: ns })))
    return lists.flat().map((o) => `${o.kind} ${o.metadata.name} ${o.metadata.resourceVersion}`).sort()
  }
  const before = await versions()
  const foreign = await serveCertificateFromAnotherCa(ctx.lab.stateDir, { host })
  try {
    const run = await runComponents([registry], 'verify', { configPath, scan: ctx.scan, env: { HOMELAB_RETRIES__ATTEMPTS: '1' } })
    assert.is(run.code, 1, run.output)
    assert.match(run.output, new RegExp(`failed\\s+registry TLS: ${host.replaceAll('.', '\\.')} chains to the homelab CA`))
    assert.match(run.output, new RegExp(`the certificate served for ${host.replaceAll('.', '\\.')} at 127\\.0\\.2\\.1:443 is not trusted with the homelab CA from Secret cert-manager/rel-${ctx.stamp}-root-ca key ca\\.crt \\([A-Z_]+\\)`))
    assert.match(run.output, `served: CN=${host} issued by CN=${foreign.caName}`)
    assert.match(run.output, /another issuer means something else serves a certificate for this name .*kubectl get ingressroute -A/)
    assert.not.match(run.output, /^ok\s+registry push/m)
    assertReadable(run)
    assert.equal(await versions(), before, 'verify changed an object')
    assert.equal((await ctx.lab.kube.list('batch/v1', 'Job', { namespace: ns })).map((j) => j.metadata.name), [], 'verify left a Job')
  } finally {
    await foreign.remove()
  }
  const next = await runComponents([registry], 'verify', { configPath, scan: ctx.scan })
  assert.is(next.code, 0, next.output)
})

reliabilityCase(Kube, 'fault', 'Ctrl-C (SIGINT) during gc once the registry is read-only: the registry is put back read-write, nothing deleted; the next gc finishes and bootstrap is changed=0', async (ctx) => {
  const ns = ctx.namespaces.find((n) => n.startsWith('rel-down-'))!
  const configPath = registryConfig(ctx, { kubeconfig: ctx.lab.kubeconfigPath, namespace: ns })
  const readOnlyNow = async () => {
    const text = ((await ctx.lab.kube.get({ apiVersion: 'v1', kind: 'ConfigMap', namespace: ns, name: 'registry-config' }))?.['data'] as Record<string, string>)['config.yml']!
    return /readonly:\s*\n\s*enabled: true/.test(text)
  }
  let sent = false
  const run = await spawnTask(join(repoRoot(), 'packages/registry/tasks/gc.ts'), ['--config', configPath, '--yes'], {
    scan: ctx.scan,
    onOutput: (output, child) => {
      if (!sent && /^changed\s+switch the registry read-only/m.test(output)) {
        sent = true
        child.kill('SIGINT')
      }
    },
  })
  assert.ok(sent, `SIGINT was never sent:\n${run.output}`)
  assert.match(run.output, /interrupted/)
  assert.match(run.output, /put the registry back to read-write/)
  assert.not.match(run.output, /^changed\s+garbage-collect$/m)
  assertReadable(run)
  assert.is(await readOnlyNow(), false, 'the interrupted gc left the registry read-only')
  const next = await spawnTask(join(repoRoot(), 'packages/registry/tasks/gc.ts'), ['--config', configPath, '--yes'], { scan: ctx.scan })
  assert.is(next.code, 0, next.output)
  assert.is(await readOnlyNow(), false)
  const again = await bootstrap(ctx, configPath)
  assert.is(again.code, 0, again.output)
  assert.equal(changedSteps(again.output).filter((s) => s !== SHARED_SINGLETON), [], again.output)
  await assertForeignUntouched(ctx)
})

reliabilityCase(Kube, 'fault', 'two registry bootstraps at once: the run lock stops the second with a message naming the holder; it applies nothing; the next run is changed=0', async (ctx) => {
  const ns = ctx.namespaces.find((n) => n.startsWith('rel-down-'))!
  const configPath = registryConfig(ctx, { kubeconfig: ctx.lab.kubeconfigPath, namespace: ns })
  const once = () => runComponents([registry], 'bootstrap', { configPath, scan: ctx.scan })
  const [a, b] = await Promise.all([once(), once()])
  const refused = [a, b].filter((r) => r.code !== 0)
  assert.is(refused.length, 1, `${a.output}\n----\n${b.output}`)
  const loser = refused[0]!
  assert.match(loser.output, /failed\s+registry run lock/)
  assert.match(loser.output, /another run (holds|took) .*run-lock-registry/)
  assert.match(loser.output, /registry bootstrap on \S+ \(pid \d+\)/)
  assert.match(loser.output, /wait for it to finish/)
  assert.not.match(loser.output, /^(changed|ok)\s+apply/m)
  await assertConverges(ctx, configPath, { expectChange: false })
})

reliabilityCase(Kube, 'fault', 'two full bootstraps at once: never both in one component, the registry by one run only; the other stops at its first refused lock naming the holder and starts nothing after it; the next run converges', async (ctx) => {
  const ns = ctx.namespaces.find((n) => n.startsWith('rel-down-'))!
  const configPath = registryConfig(ctx, { kubeconfig: ctx.lab.kubeconfigPath, namespace: ns })
  const runs = await Promise.all([bootstrap(ctx, configPath), bootstrap(ctx, configPath)])
  const all = runs.map((r) => r.output).join('\n----\n')
  const converged = (component: string) => runs.filter((r) => recapOf(r.output, component)?.failed === 0 && recapOf(r.output, component)?.skipped === 0)
  // The registry phase lasts long enough that the two always meet there: exactly one run converges it.
  assert.is(converged('registry').length, 1, `registry was not converged by exactly one run:\n${all}`)
  const stopped = runs.filter((r) => /failed\s+\S+ run lock/.test(r.output))
  assert.is(stopped.length, 1, all)
  assert.match(stopped[0]!.output, new RegExp(`another run (holds|took) rel-tool-${ctx.stamp}/run-lock-`))
  const refusedAt = /failed\s+(\S+) run lock/.exec(stopped[0]!.output)![1]!
  if (refusedAt === 'homelab-devtools') assert.match(stopped[0]!.output, new RegExp(`skipped\\s+registry bootstrap: another run holds rel-tool-${ctx.stamp}/run-lock-homelab-devtools; not started`))
  // The tool's namespace is one quick apply: a run that starts a moment later may take that lock after the first
  // released it (one after the other, never both at once) and is then refused at the registry, held by the first.
  assert.ok(converged('homelab-devtools').length >= 1, all)
  await assertConverges(ctx, configPath, { expectChange: false })
})

reliabilityCase(Kube, 'fault', 'two whole pnpm turbo bootstrap pipelines at once: one starts nothing and names the other, which finishes; the next run converges', async (ctx) => {
  const ns = await newNamespace(ctx, 'twopipes')
  const configPath = registryConfig(ctx, { kubeconfig: ctx.lab.kubeconfigPath, namespace: ns })
  const pipeline = join(repoRoot(), 'tasks/turbo-pipeline.ts')
  // Started together: whichever takes the pipeline lock first converges, the other must stop before any task. (Once
  // one run was started after the other reached the registry; a no-op pipeline now ends before a second one loads.)
  const runs = await Promise.all([1, 2].map(() => spawnTask(pipeline, ['bootstrap', '--config', configPath], { scan: ctx.scan })))
  const both = runs.map((r) => r.output).join('\n----\n')
  const refused = runs.filter((r) => /Nothing was started/.test(r.output))
  const finished = runs.filter((r) => r.code === 0)
  assert.is(refused.length, 1, both)
  assert.is(finished.length, 1, both)
  assert.is(refused[0]!.code, 1, both)
  assert.match(refused[0]!.output, new RegExp(`another run holds rel-tool-${ctx.stamp}/run-lock-pipeline: pnpm turbo bootstrap on \\S+ \\(pid \\d+\\)`), both)
  assert.not.match(refused[0]!.output, /^\S+:(preflight-cluster|preflight-nodes|bootstrap|verify-all): /m, 'the refused pipeline ran a task')
  assertReadable(refused[0]!)
  const again = await spawnTask(pipeline, ['bootstrap', '--config', configPath], { scan: ctx.scan })
  assert.is(again.code, 0, again.output)
  assert.match(again.output, /recap total: ok=\d+ changed=0 failed=0/, again.output)
})

reliabilityCase(Kube, 'fault', 'Ctrl-C (SIGINT) during bootstrap: the steps not started are skipped as interrupted, the lock is released, no temp file is left; the next run converges', async (ctx) => {
  const ns = await newNamespace(ctx, 'sigint')
  const configPath = registryConfig(ctx, { kubeconfig: ctx.lab.kubeconfigPath, namespace: ns })
  const home = mkdtempSync(join(tmpdir(), 'reliability-home-'))
  let sent = false
  const run = await spawnTask(join(repoRoot(), 'packages/registry/tasks/bootstrap.ts'), ['--config', configPath], {
    env: { HOME: home },
    scan: ctx.scan,
    onOutput: (output, child) => {
      if (!sent && /^changed\s+apply/m.test(output)) {
        sent = true
        child.kill('SIGINT')
      }
    },
  })
  assert.ok(sent, `SIGINT was never sent:\n${run.output}`)
  assert.match(run.output, /skipped\s+.*: interrupted/)
  assert.is(run.code, 130, `an interrupted bootstrap must not exit as if it were done:\n${run.output}`)
  assertReadable(run)
  assert.is(await ctx.lab.kube.get({ apiVersion: 'v1', kind: 'ConfigMap', namespace: `rel-tool-${ctx.stamp}`, name: 'run-lock-registry' }), undefined, 'the run lock was left behind')
  assert.equal(readdirSync(home).filter((n) => /tmp|\.partial/.test(n)), [])
  await assertConverges(ctx, configPath, { expectChange: true })
})

reliabilityCase(Kube, 'fault', 'a Certificate cert-manager can never issue (issuer missing): the wait times out naming the Certificate and what it saw; nothing foreign touched; fixed config converges', async (ctx) => {
  const ns = await newNamespace(ctx, 'noissuer')
  const broken = registryConfig(ctx, { kubeconfig: ctx.lab.kubeconfigPath, namespace: ns, tls: { mode: 'acme', issuer: { name: `rel-${ctx.stamp}-missing`, kind: 'ClusterIssuer' } } })
  const run = await runComponents(COMPONENTS, 'bootstrap', { configPath: broken, scan: ctx.scan, env: { HOMELAB_TIMEOUTS__CERTIFICATE: '4s' } })
  assert.is(run.code, 1, run.output)
  assert.match(run.output, new RegExp(`failed\\s+wait for .*`))
  assert.match(run.output, new RegExp(`Certificate ${ns}/registry-tls`))
  assert.match(run.output, /4 ?s|timed out/)
  assertReadable(run)
  assert.is(await ctx.lab.kube.get({ apiVersion: 'v1', kind: 'Secret', namespace: ns, name: 'registry-tls' }), undefined)
  await assertConverges(ctx, registryConfig(ctx, { kubeconfig: ctx.lab.kubeconfigPath, namespace: ns }), { expectChange: true })
})

Kube('no cluster fault printed the registry password, in output or in any process argv', (ctx) => {
  ctx.scan.stopArgv()
  assert.ok(ctx.scan.samples > 0)
  assert.equal(ctx.scan.leaks, [])
  assert.ok(existsSync(ctx.api.kubeconfigPath))
})

Kube.run()
