// Secrets: the suite's commands run with known secret values (registry password, Pi-hole password, LocalStack token;
// the sudo password is scanned by node-faults) and none may show up in stdout, stderr, --json events, thrown
// messages, any process's argv, or a file the tool writes other than the ones meant to hold it. Verification of TLS
// and SSH host keys is on by default; turning TLS off is a per-target key that prints a warning.
import { mkdtempSync, readdirSync } from 'node:fs'
import { tmpdir } from 'node:os'
import { basename, join } from 'node:path'
import { parseConfig, toolNamespace } from '@homelab/core'
import { runDnsTask } from '@homelab/dns'
import { type PiholeDouble, reportHookErrors, startPihole } from '@homelab/lab'
import { localstack } from '@homelab/localstack'
import { registry } from '@homelab/registry'
import { suite } from 'uvu'
import * as assert from 'uvu/assert'
import { deleteNamespace, uniqueName, useLabKube, type LabKube } from './support/lab-kube.js'
import { KNOWN_SECRETS, LeakScan } from './support/leak-scan.js'
import { runComponents, runWithIo, writeConfigFile } from './support/tool-run.js'

type Ctx = { lab: LabKube; scan: LeakScan; namespace: string; pihole: PiholeDouble; configPath: string }
const Secrets = suite<Ctx>('secrets never leak: output, --json, errors, argv, files', {} as Ctx)

Secrets.before(reportHookErrors(async (ctx) => {
  ctx.lab = await useLabKube()
  ctx.scan = new LeakScan()
  ctx.namespace = uniqueName('rel-secrets')
  ctx.pihole = await startPihole({ stateDir: mkdtempSync(join(tmpdir(), 'reliability-pihole-')), ip: '127.0.4.89', dnsPort: 1053, password: KNOWN_SECRETS.piholePassword })
  ctx.configPath = writeConfigFile({
    domain: 'homelab.local',
    ingress: { ip: '127.0.2.1' },
    kubernetes: { kubeconfig: ctx.lab.kubeconfigPath, namespace: `${ctx.namespace}-tool` },
    registry: { namespace: ctx.namespace, hosts: { registry: `${ctx.namespace}-reg`, ui: `${ctx.namespace}-ui` }, users: [{ name: 'admin', password: KNOWN_SECRETS.registryPassword }] },
    localstack: { namespace: `${ctx.namespace}-ls`, edition: 'token', image: 'localstack/localstack:2026.07.0' },
    dns: { piholes: [{ url: ctx.pihole.url, password: KNOWN_SECRETS.piholePassword, dnsPort: 1053 }] },
    nodes: [],
    timeouts: { certificate: '60s', rollout: '90s', http: '3s' },
  })
  ctx.scan.startArgv()
}))

Secrets.after(async (ctx) => {
  ctx.scan?.stopArgv()
  await ctx.pihole?.stop()
  for (const ns of [ctx.namespace, `${ctx.namespace}-tool`, `${ctx.namespace}-ls`]) await deleteNamespace(ctx.lab?.kube, ns)
})

const TOKEN_ENV = { HOMELAB_LOCALSTACK__AUTH_TOKEN: KNOWN_SECRETS.localstackToken }

Secrets('registry bootstrap (text and --json) and its plan show the password nowhere, not even in the Secret diffs', async (ctx) => {
  const first = await runComponents([toolNamespace, registry], 'bootstrap', { configPath: ctx.configPath, args: ['--json'], scan: ctx.scan })
  assert.is(first.code, 0, first.output)
  const events = first.stdout.trim().split('\n').map((l) => JSON.parse(l) as { event: string })
  assert.ok(events.some((e) => e.event === 'recap'), 'no --json recap')
  const plan = await runComponents([registry], 'plan', { configPath: ctx.configPath, scan: ctx.scan, env: { HOMELAB_REGISTRY__USERS__0__PASSWORD: `${KNOWN_SECRETS.registryPassword}` } })
  assert.is(plan.code, 0, plan.output)
  assert.equal(ctx.scan.leaks, [])
})

Secrets('registry verify logs in with the password and prints it nowhere', async (ctx) => {
  const run = await runComponents([registry], 'verify', { configPath: ctx.configPath, args: ['--json'], scan: ctx.scan })
  assert.is(run.code, 0, run.output)
  assert.equal(ctx.scan.leaks, [])
})

Secrets('dns sync and verify (text and --json), and a failing login, never show the Pi-hole password', async (ctx) => {
  const sync = await runWithIo({ argv: ['--config', ctx.configPath, '--json'], scan: ctx.scan, label: 'dns sync' }, (io) => runDnsTask('sync', io))
  assert.is(sync.code, 0, sync.output)
  await ctx.pihole.setFault({ kind: 'status', status: 401, match: { pathPrefix: '/api/auth' } })
  const refused = await runWithIo({ argv: ['--config', ctx.configPath], scan: ctx.scan, label: 'dns sync 401' }, (io) => runDnsTask('sync', io))
  await ctx.pihole.setFault(undefined)
  assert.is(refused.code, 1)
  assert.match(refused.output, /401/)
  assert.equal(ctx.scan.leaks, [])
})

Secrets('localstack token edition: plan and bootstrap keep the token in the Secret only; --json events and diffs mask it', async (ctx) => {
  const plan = await runComponents([localstack], 'plan', { configPath: ctx.configPath, args: ['--json'], env: TOKEN_ENV, scan: ctx.scan })
  assert.is(plan.code, 0, plan.output)
  assert.match(plan.output, /\*{4}/, 'the token Secret diff does not show the mask')
  assert.equal(ctx.scan.leaks, [])
})

Secrets('a refused secret value (a list where the Pi-hole password goes) is described by its kind, never shown', async (ctx) => {
  const configPath = writeConfigFile({ dns: { piholes: [{ url: 'http://127.0.4.89', password: [KNOWN_SECRETS.piholePassword] }] }, nodes: [] })
  const run = await runComponents([registry], 'plan', { configPath, scan: ctx.scan })
  assert.is(run.code, 2, run.output)
  assert.match(run.output, /dns\.piholes\[0\]\.password: expected a string, got a list/)
  assert.equal(ctx.scan.leaks, [])
})

Secrets('TLS and SSH host-key verification are on by default for every Pi-hole and node', () => {
  const config = parseConfig(JSON.stringify({ dns: { piholes: [{ url: 'https://127.0.4.89' }, { url: 'https://127.0.4.88' }] }, nodes: [{ host: '127.0.1.160' }] }), { sourceName: '/x/homelab.yaml', baseDir: '/x', env: {} })
  assert.equal(config.dns.piholes.map((p) => p.insecureSkipTlsVerify), [false, false])
  assert.is(config.nodeTrust.acceptNewHostKeys, false)
})

Secrets('no file the suite made the tool write holds a secret, outside the files meant to (htpasswd/credentials Secrets as mounted, registries.yaml, lab credentials)', (ctx) => {
  const allowed = (path: string) => {
    const name = basename(path)
    return (
      // Inputs, not outputs: the configs the suite itself wrote, and the tally of leak names.
      name === 'homelab.yaml' || name.endsWith('.jsonl') ||
      // The cluster's own storage: Secrets live in etcd by design.
      path.includes('/etcd/') ||
      // Mounted Secret volumes (htpasswd, the credentials Secret) and what K3s renders from registries.yaml.
      /\/\.\.\d|\/\.\.data\//.test(path) || ['htpasswd', 'admin', 'registries.yaml', 'config.toml'].includes(name) || /registries\.yaml\.bak-/.test(name) ||
      // The Pi-hole double's login secrets and the lab's own credential files.
      ['tokens.csv', 'kubeconfig', 'homelab-lab.password', 'password'].includes(name)
    )
  }
  // Under run-tests.ts every file has a TMPDIR of its own inside the run's folder: what the other files left is there.
  const runDir = process.env['HOMELAB_TEST_RUN_DIR']
  const tmpRoots = runDir ? readdirSync(runDir, { withFileTypes: true }).filter((e) => e.isDirectory()).map((e) => join(runDir, e.name)) : [tmpdir()]
  const left = tmpRoots.flatMap((dir) => readdirSync(dir).filter((n) => n.startsWith('reliability-') || n === 'homelab-reliability-nodes').map((n) => join(dir, n)))
  const roots = [ctx.lab.stateDir, ...left]
  let read = 0
  for (const root of roots) read += ctx.scan.scanFiles(root, allowed)
  assert.ok(read > 0, 'no file was scanned')
  assert.equal(ctx.scan.leaks, [])
})

Secrets('no process argv sampled during these runs held a secret', (ctx) => {
  ctx.scan.stopArgv()
  assert.ok(ctx.scan.samples > 0)
  assert.equal(ctx.scan.leaks, [])
})

Secrets.run()
