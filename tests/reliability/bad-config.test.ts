// Bad inputs, config side: each broken homelab.yaml (or env override, or flag) goes through the real CLI edge and must
// end with exit code 2, a message naming the key (and the fix), no stack trace, and no secret value.
import { mkdirSync, mkdtempSync, symlinkSync, writeFileSync } from 'node:fs'
import { tmpdir } from 'node:os'
import { join } from 'node:path'
import { loadConfig, toolNamespace } from '@homelab/core'
import { reportHookErrors } from '@homelab/lab'
import { registry } from '@homelab/registry'
import { suite } from 'uvu'
import * as assert from 'uvu/assert'
import { KNOWN_SECRETS, LeakScan } from './support/leak-scan.js'
import { reliabilityCase } from './support/reliability-tally.js'
import { hasStackTrace, runComponents, writeConfigFile } from './support/tool-run.js'

type Ctx = { scan: LeakScan; files: Record<'dir' | 'empty' | 'notPem' | 'dangling' | 'missing', string> }
const BadConfig = suite<Ctx>('bad config is refused at the CLI edge with exit 2 and the key named', {} as Ctx)

type Config = Record<string, any>
// A config that loads (checked first): each case breaks one thing in it.
const base = (): Config => ({
  domain: 'homelab.local',
  ingress: { ip: '127.0.2.1' },
  registry: { users: [{ name: 'admin', password: KNOWN_SECRETS.registryPassword }] },
  dns: { piholes: [{ url: 'http://127.0.4.90', password: KNOWN_SECRETS.piholePassword }] },
  nodes: [{ name: 'node-a', host: '127.0.1.160' }, { name: 'node-b', host: '127.0.1.161' }],
})

type Case = { name: string; edit?: (c: Config, files: Ctx['files']) => void; text?: string; env?: Record<string, string>; args?: string[]; expect: RegExp[] }

const CASES: Case[] = [
  { name: 'domain given as a number', edit: (c) => (c.domain = 42), expect: [/domain: expected a DNS domain/, /got 42/] },
  { name: 'domain with a trailing dot', edit: (c) => (c.domain = 'homelab.local.'), expect: [/domain: expected .*without a trailing dot/] },
  { name: 'domain in capitals', edit: (c) => (c.domain = 'Homelab.Local'), expect: [/domain: expected .*in lowercase/] },
  { name: 'domain with an underscore', edit: (c) => (c.domain = 'home_lab.local'), expect: [/domain: expected .*labels of a-z/] },
  { name: 'ingress.ip with an octet above 255', edit: (c) => (c.ingress.ip = '192.168.4.300'), expect: [/ingress\.ip: expected an IPv4 or IPv6 address, got "192\.168\.4\.300"/] },
  { name: 'ingress.ip given as a host name', edit: (c) => (c.ingress.ip = 'traefik'), expect: [/ingress\.ip: expected an IPv4 or IPv6 address/] },
  { name: 'unknown top-level key registy', edit: (c) => (c.registy = {}), expect: [/registy: unknown key; did you mean `registry`\?/] },
  { name: 'unknown nested key registry.storage.sise', edit: (c) => (c.registry.storage = { sise: '30Gi' }), expect: [/registry\.storage\.sise: unknown key; did you mean `size`\?/] },
  { name: 'unknown key nodes[0].hosst', edit: (c) => (c.nodes[0].hosst = 'x'), expect: [/nodes\[0\]\.hosst: unknown key; did you mean `host`\?/] },
  { name: 'storage size 30GB (not a Kubernetes unit)', edit: (c) => (c.registry.storage = { size: '30GB' }), expect: [/registry\.storage\.size: /, /30GB/] },
  { name: 'storage size as a bare number', edit: (c) => (c.registry.storage = { size: 30 }), expect: [/registry\.storage\.size: expected/] },
  { name: 'memory limit below its request', edit: (c) => (c.registry.resources = { requests: { memory: '1Gi' }, limits: { memory: '512Mi' } }), expect: [/registry\.resources\.limits\.memory: expected at least registry\.resources\.requests\.memory \(1Gi\), got 512Mi/] },
  { name: 'cpu limit below its request', edit: (c) => (c.localstack = { resources: { requests: { cpu: '2' }, limits: { cpu: '500m' } } }), expect: [/localstack\.resources\.limits\.cpu: expected at least localstack\.resources\.requests\.cpu/] },
  { name: 'htpasswd user name with a colon', edit: (c) => (c.registry.users[0].name = 'ad:min'), expect: [/registry\.users\[0\]\.name: expected a user name without ":"/] },
  { name: 'htpasswd user name with a space', edit: (c) => (c.registry.users[0].name = 'ad min'), expect: [/registry\.users\[0\]\.name: expected a user name without ":" or spaces/] },
  { name: 'two registry users with one name', edit: (c) => c.registry.users.push({ name: 'admin' }), expect: [/registry\.users\[1\]\.name: duplicate of registry\.users\[0\]\.name/] },
  { name: 'an empty registry user list', edit: (c) => (c.registry.users = []), expect: [/registry\.users: expected at least one user/] },
  { name: 'a registry passwordFile that does not exist', edit: (c, f) => (c.registry.users[0] = { name: 'admin', passwordFile: f.missing }), expect: [/registry\.users\[0\]\.passwordFile: cannot read .*no such file/] },
  { name: 'a registry passwordFile that is a directory', edit: (c, f) => (c.registry.users[0] = { name: 'admin', passwordFile: f.dir }), expect: [/registry\.users\[0\]\.passwordFile: cannot read .*is a directory/] },
  { name: 'a registry passwordFile that is a dangling symlink', edit: (c, f) => (c.registry.users[0] = { name: 'admin', passwordFile: f.dangling }), expect: [/registry\.users\[0\]\.passwordFile: cannot read .*no such file/] },
  { name: 'an empty registry passwordFile', edit: (c, f) => (c.registry.users[0] = { name: 'admin', passwordFile: f.empty }), expect: [/registry\.users\[0\]\.passwordFile: expected a secret in .*got an empty file/] },
  { name: 'both password and passwordFile', edit: (c, f) => (c.registry.users[0].passwordFile = f.empty), expect: [/registry\.users\[0\]\.passwordFile: set either password or passwordFile, not both/] },
  { name: 'an empty inline password', edit: (c) => (c.registry.users[0].password = ''), expect: [/registry\.users\[0\]\.password: expected a non-empty string/] },
  { name: 'a Pi-hole password given as a number', edit: (c) => (c.dns.piholes[0].password = 81024), expect: [/dns\.piholes\[0\]\.password: expected a string, got a number/] },
  { name: 'registry image tag latest', edit: (c) => (c.registry.image = 'registry:latest'), expect: [/registry\.image: expected a pinned registry 2\.8\.x tag/] },
  { name: 'registry image 3.0.0 (not the 2.8 the runbook is for)', edit: (c) => (c.registry.image = 'registry:3.0.0'), expect: [/registry\.image: expected a pinned registry 2\.8\.x tag/] },
  { name: 'registry namespace with capitals and _', edit: (c) => (c.registry.namespace = 'Registry_NS'), expect: [/registry\.namespace: expected a Kubernetes name/] },
  { name: 'registry host with a !', edit: (c) => (c.registry.hosts = { registry: 'registry!' }), expect: [/registry\.hosts\.registry: expected a host label/] },
  { name: 'two nodes on one host', edit: (c) => (c.nodes[1].host = '127.0.1.160'), expect: [/nodes\[1\]\.host: duplicate of nodes\[0\]\.host \(127\.0\.1\.160:22\)/] },
  { name: 'two nodes with one name', edit: (c) => (c.nodes[1].name = 'node-a'), expect: [/nodes\[1\]\.name: duplicate of nodes\[0\]\.name/] },
  { name: 'node host 10.0.0.256', edit: (c) => (c.nodes[0].host = '10.0.0.256'), expect: [/nodes\[0\]\.host: expected an IPv4 or IPv6 address, got "10\.0\.0\.256"/] },
  { name: 'node host with illegal characters', edit: (c) => (c.nodes[0].host = 'bad_host!'), expect: [/nodes\[0\]\.host: expected an IP address or a DNS name/] },
  { name: 'node port 70000', edit: (c) => (c.nodes[0].port = 70000), expect: [/nodes\[0\]\.port: expected at most 65535/] },
  { name: 'node port as a string', edit: (c) => (c.nodes[0].port = '22'), expect: [/nodes\[0\]\.port: expected a port number, got "22"/] },
  { name: 'node keyFile that does not exist', edit: (c, f) => (c.nodes[0].keyFile = f.missing), expect: [/nodes\[0\]\.keyFile: cannot read .*no such file/] },
  { name: 'node sudoPasswordFile that does not exist', edit: (c, f) => (c.nodes[0] = { ...c.nodes[0], user: 'ops', sudoPasswordFile: f.missing }), expect: [/nodes\[0\]\.sudoPasswordFile: cannot read .*no such file/] },
  { name: 'node role master', edit: (c) => (c.nodes[0].role = 'master'), expect: [/nodes\[0\]\.role: expected one of "server", "agent", "auto"/] },
  { name: 'node agent true without SSH_AUTH_SOCK', edit: (c) => (c.nodes[0].agent = true), expect: [/nodes\[0\]\.agent: expected SSH_AUTH_SOCK to be set/] },
  { name: 'a relative registriesYamlPath', edit: (c) => (c.nodeTrust = { registriesYamlPath: 'etc/rancher/k3s/registries.yaml' }), expect: [/nodeTrust\.registriesYamlPath: expected a path on the node \(absolute, on the node\)/] },
  { name: 'a negative backup count', edit: (c) => (c.nodeTrust = { backups: -1 }), expect: [/nodeTrust\.backups: expected at least 0/] },
  { name: 'a Pi-hole URL without a scheme', edit: (c) => (c.dns.piholes[0].url = 'pi.hole'), expect: [/dns\.piholes\[0\]\.url: expected an http\(s\) URL, got "pi\.hole"/] },
  { name: 'a Pi-hole URL carrying credentials', edit: (c) => (c.dns.piholes[0].url = `http://admin:${KNOWN_SECRETS.piholePassword}@127.0.4.90`), expect: [/dns\.piholes\[0\]\.url: expected an http\(s\) URL without credentials/] },
  { name: 'two Pi-holes with one URL', edit: (c) => c.dns.piholes.push({ url: 'http://127.0.4.90/' }), expect: [/dns\.piholes\[1\]\.url: duplicate of dns\.piholes\[0\]\.url/] },
  { name: 'Pi-hole version v7', edit: (c) => (c.dns.piholes[0].version = 'v7'), expect: [/dns\.piholes\[0\]\.version: expected one of "auto", "v6", "v5"/] },
  { name: 'a Pi-hole caFile that is not PEM', edit: (c, f) => (c.dns.piholes[0].caFile = f.notPem), expect: [/dns\.piholes\[0\]\.caFile: expected a PEM certificate/] },
  { name: 'a Pi-hole dnsPort of 0', edit: (c) => (c.dns.piholes[0].dnsPort = 0), expect: [/dns\.piholes\[0\]\.dnsPort: expected at least 1/] },
  { name: 'dns records kind aaaa', edit: (c) => (c.dns.records = 'aaaa'), expect: [/dns\.records: expected one of "a", "cname"/] },
  { name: 'tls mode acme without an issuer', edit: (c) => (c.tls = { mode: 'acme' }), expect: [/tls\.issuer: expected \{name, kind\} of an existing issuer when mode is acme/] },
  { name: 'tls mode ca with an issuer', edit: (c) => (c.tls = { mode: 'ca', issuer: { name: 'letsencrypt' } }), expect: [/tls\.issuer: only used with mode: acme/] },
  { name: 'localstack token edition on the community image', edit: (c) => (c.localstack = { edition: 'token', authToken: KNOWN_SECRETS.localstackToken }), expect: [/localstack\.image: expected a pinned 2026\.MM\.p tag/] },
  { name: 'localstack auth token with the community edition', edit: (c) => (c.localstack = { authToken: KNOWN_SECRETS.localstackToken }), expect: [/localstack\.authToken: an auth token is only used with edition: token/] },
  { name: 'localstack service with a typo', edit: (c) => (c.localstack = { services: ['s3', 'sqss'] }), expect: [/localstack\.services\[1\]: expected one of .*did you mean "sqs"\?/] },
  { name: 'localstack region mars', edit: (c) => (c.localstack = { region: 'mars' }), expect: [/localstack\.region: expected an AWS region such as us-east-1/] },
  { name: 'http timeout without a unit', edit: (c) => (c.timeouts = { http: '30' }), expect: [/timeouts\.http: /, /"30"|30/] },
  { name: 'retries attempts 0', edit: (c) => (c.retries = { attempts: 0 }), expect: [/retries\.attempts: expected at least 1/] },
  { name: 'a kubeconfig that does not exist', edit: (c, f) => (c.kubernetes = { kubeconfig: f.missing }), expect: [/kubernetes\.kubeconfig: cannot read .*no such file/] },
  { name: 'a YAML syntax error', text: 'domain: homelab.local\nregistry:\n  users: [{name: admin\n', expect: [/homelab\.yaml:\d+:\d+: YAML syntax error/] },
  { name: 'a list at the top level', text: '- domain: homelab.local\n', expect: [/expected a mapping of settings at the top level/] },
  { name: 'a YAML alias bomb in the config', text: `a: &a [x, x, x, x, x, x, x, x, x]\n${Array.from({ length: 9 }, (_, i) => `${String.fromCharCode(98 + i)}: &${String.fromCharCode(98 + i)} [${Array(9).fill(`*${String.fromCharCode(97 + i)}`).join(', ')}]`).join('\n')}\n`, expect: [/homelab\.yaml: .*alias/i] },
  { name: 'a near-miss env variable HOMELAB_INGRESS_IP', env: { HOMELAB_INGRESS_IP: '127.0.2.9' }, expect: [/HOMELAB_INGRESS_IP/, /HOMELAB_INGRESS__IP/] },
  { name: 'an env override HOMELAB_REGISTRY__STORAGE__SIZE=30GB', env: { HOMELAB_REGISTRY__STORAGE__SIZE: '30GB' }, expect: [/registry\.storage\.size: .*\(from HOMELAB_REGISTRY__STORAGE__SIZE\)/] },
  { name: 'a --config file that does not exist', args: ['--config', '/nonexistent/reliability/homelab.yaml'], expect: [/\/nonexistent\/reliability\/homelab\.yaml: cannot read the config file: no such file/] },
  { name: 'an unknown flag --frobnicate', args: ['--frobnicate'], expect: [/frobnicate/, /usage: /] },
]

BadConfig.before(reportHookErrors((ctx) => {
  ctx.scan = new LeakScan()
  const dir = mkdtempSync(join(tmpdir(), 'reliability-files-'))
  const files = { dir: join(dir, 'a-directory'), empty: join(dir, 'empty'), notPem: join(dir, 'not-a-cert.pem'), dangling: join(dir, 'dangling'), missing: join(dir, 'missing') }
  mkdirSync(files.dir)
  writeFileSync(files.empty, '', { mode: 0o600 })
  writeFileSync(files.notPem, 'hello, I am not a certificate\n')
  symlinkSync(join(dir, 'nowhere'), files.dangling)
  ctx.files = files
}))

BadConfig('the base config every case breaks loads cleanly (so each refusal is the case’s own)', () => {
  const config = loadConfig({ configPath: writeConfigFile(base()), cwd: tmpdir(), env: {} })
  assert.is(config.registry.users[0]?.name, 'admin')
})

for (const c of CASES) {
  reliabilityCase(BadConfig, 'input', `config: ${c.name}: exit 2, the key and the fix named, no stack trace`, async (ctx) => {
    const config = base()
    c.edit?.(config, ctx.files)
    const configPath = c.text === undefined ? writeConfigFile(config) : writeConfigFile({}, 'homelab.yaml')
    if (c.text !== undefined) writeFileSync(configPath, c.text)
    // The arguments stand after --config, so a case's own --config wins (parseArgs keeps the last).
    const run = await runComponents([toolNamespace, registry], 'bootstrap', { configPath, args: ['--plan', ...(c.args ?? [])], env: c.env ?? {}, scan: ctx.scan })
    assert.is(run.code, 2, run.output)
    for (const pattern of c.expect) assert.match(run.output, pattern)
    assert.not.ok(hasStackTrace(run.output), `a stack trace was printed:\n${run.output}`)
    assert.not.match(run.output, /recap /, 'steps ran on a bad config')
    assert.equal(ctx.scan.leaks, [], 'a secret value was printed')
  })
}

BadConfig('no refusal printed a secret value (registry or Pi-hole password, LocalStack token)', (ctx) => {
  assert.equal(ctx.scan.leaks, [])
})

BadConfig.run()
