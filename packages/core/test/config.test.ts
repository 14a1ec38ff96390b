import { mkdirSync, mkdtempSync, readFileSync, rmSync, writeFileSync } from 'node:fs'
import { tmpdir } from 'node:os'
import { join } from 'node:path'
import { inspect } from 'node:util'
import { Ajv } from 'ajv'
import { parse as parseYaml } from 'yaml'
import { reportHookErrors } from '@homelab/lab'
import { suite } from 'uvu'
import * as assert from 'uvu/assert'
import {
  ConfigError,
  configJsonSchema,
  Cpu,
  Duration,
  EXAMPLE_CONFIG_PATH,
  loadConfig,
  parseConfig,
  QuantityFormatError,
  Secret,
  Size,
  type Env,
} from '../src/index.js'

type Ctx = { dir: string; env: Env }
const Config = suite<Ctx>('config', {} as Ctx)

// A secret file content that must never appear in any message.
const FILE_SECRET = 'file-secret-5f0c2a91'
const ENV_SECRET = 'env-secret-77d1b3e4'

Config.before(reportHookErrors((ctx) => {
  ctx.dir = mkdtempSync(join(tmpdir(), 'homelab-config-'))
  ctx.env = { HOME: ctx.dir }
  writeFileSync(join(ctx.dir, 'pihole-password'), `${FILE_SECRET}\n`)
  writeFileSync(join(ctx.dir, 'id_ed25519'), 'not really a key')
  mkdirSync(join(ctx.dir, 'a-directory'))
}))

Config.after((ctx) => rmSync(ctx.dir, { recursive: true, force: true }))

const parse = (ctx: Ctx, yaml: string, env: Env = {}) => parseConfig(yaml, { sourceName: join(ctx.dir, 'homelab.yaml'), baseDir: ctx.dir, env: { ...ctx.env, ...env } })

function configError(run: () => unknown): ConfigError {
  try {
    run()
  } catch (error) {
    assert.instance(error, ConfigError)
    return error as ConfigError
  }
  return assert.unreachable('expected a ConfigError') as never
}

Config('the example file validates through loadConfig and is what loads without a homelab.yaml', (ctx) => {
  const config = loadConfig({ cwd: ctx.dir, env: ctx.env })
  assert.is(config.domain, 'homelab.local')
  assert.is(config.ingress.ip, '192.168.4.202')
  assert.is(config.registry.storage.size.toString(), '30Gi')
  assert.is(config.registry.storage.storageClass, 'local-path')
  // A run on the example's defaults must reach no machine it was not told about: its Pi-holes and nodes are comments.
  assert.equal(config.nodes, [])
  assert.equal(config.dns.piholes, [])
})

Config('the commented-out Pi-hole and node entries of the example validate once uncommented', (ctx) => {
  const text = readFileSync(EXAMPLE_CONFIG_PATH, 'utf8')
  const uncomment = (from: string, indent: string) => {
    const lines = text.split('\n')
    const start = lines.findIndex((l) => l.startsWith(from))
    const block = [from.replace('# ', '')]
    for (const line of lines.slice(start + 1)) {
      if (!line.startsWith(`${indent}#   `) && !line.startsWith(`${indent}#     `)) break
      block.push(line.replace(`${indent}# `, indent))
    }
    return block.join('\n')
  }
  const yaml = `dns:\n${uncomment('  # piholes:', '  ')}\n${uncomment('# nodes:', '')}\n`.replace(/keyFile: \S+/, 'agent: true').replace(/\n\s*caFile: \S+/, '')
  mkdirSync(join(ctx.dir, 'secrets'), { recursive: true })
  for (const file of ['sudo', 'pihole-1']) writeFileSync(join(ctx.dir, 'secrets', file), 'uncommented-pw-1\n', { mode: 0o600 })
  const config = parseConfig(yaml, { sourceName: 'example-uncommented.yaml', baseDir: ctx.dir, env: { ...ctx.env, SSH_AUTH_SOCK: '/run/agent.sock' } })
  assert.equal(config.nodes.map((n) => n.host), ['192.168.4.10', '192.168.4.11'])
  assert.is(config.dns.piholes[0]?.url, 'http://192.168.4.53')
})

Config('the example file validates against the exported JSON Schema (ajv)', () => {
  const ajv = new Ajv({ strict: false, allErrors: true })
  const validate = ajv.compile(configJsonSchema())
  const example = parseYaml(readFileSync(EXAMPLE_CONFIG_PATH, 'utf8')) as Record<string, unknown>
  assert.ok(validate(example), ajv.errorsText(validate.errors))
  assert.not.ok(validate({ ...example, domian: 'x' }), 'an unknown key fails the JSON Schema too')
  assert.not.ok(validate({ registry: { storage: { size: '30GB' } } }), 'a bad size fails the JSON Schema pattern')
})

Config('the committed homelab.schema.json is the current schema', () => {
  const committed = JSON.parse(readFileSync(new URL('../../../homelab.schema.json', import.meta.url), 'utf8'))
  assert.equal(committed, JSON.parse(JSON.stringify(configJsonSchema())), 'run pnpm exec tsx packages/core/tasks/config-schema.ts')
})

Config('an empty file gets the seed values as defaults, as typed values', (ctx) => {
  const config = parse(ctx, '')
  assert.is(config.domain, 'homelab.local')
  assert.is(config.ingress.ip, undefined, 'absent: read from the Traefik Service')
  assert.equal(config.ingress.traefikService, { namespace: 'kube-system', name: 'traefik' })
  assert.is(config.kubernetes.fieldManager, 'homelab-devtools')
  assert.instance(config.registry.storage.size, Size)
  assert.is(config.registry.storage.size.bytes, 30 * 2 ** 30)
  assert.is(String(config.registry.resources.requests.memory), '256Mi')
  assert.is(String(config.registry.resources.requests.cpu), '100m')
  assert.is(String(config.registry.resources.limits.memory), '512Mi')
  assert.is(String(config.registry.resources.limits.cpu), '500m')
  assert.is(String(config.localstack.resources.limits.memory), '2Gi')
  assert.is(String(config.localstack.resources.limits.cpu), '1', 'canonical: 1000m renders as the API server stores it')
  assert.is(config.localstack.image, 'localstack/localstack:4.14.0')
  assert.equal(config.localstack.services, ['s3', 'sqs', 'sns', 'dynamodb', 'lambda'])
  assert.equal(config.registry.users, [{ name: 'admin' }], 'no password given: stays absent, generated later')
  assert.equal(config.registry.auth, { secretName: 'registry-auth', realm: 'Registry Realm', credentialsSecretName: 'registry-credentials', bcryptCost: 5 })
  assert.equal(config.registry.hosts, { registry: 'registry.homelab.local', ui: 'registry-ui.homelab.local' })
  assert.is(config.localstack.host, 'localstack.homelab.local')
  assert.equal(config.tls.issuer, { name: 'homelab-ca', kind: 'ClusterIssuer' })
  assert.is(config.nodeTrust.knownHostsFile, join(ctx.dir, '.ssh/known_hosts'))
  assert.is(config.timeouts.http.milliseconds, 30_000)
})

Config('hosts follow the domain; a name with dots is kept as it is', (ctx) => {
  const config = parse(ctx, 'domain: lab.home.arpa\nregistry:\n  hosts: {ui: images.example.org}\n')
  assert.is(config.registry.hosts.registry, 'registry.lab.home.arpa')
  assert.is(config.registry.hosts.ui, 'images.example.org')
})

Config('nodes: sudo defaults on for non-root users, agent true resolves to SSH_AUTH_SOCK, keyFile is absolute', (ctx) => {
  const yaml = 'nodes:\n  - {host: 10.0.0.1, user: ubuntu, agent: true}\n  - {host: node-2.lan, keyFile: id_ed25519}\n'
  const [first, second] = parse(ctx, yaml, { SSH_AUTH_SOCK: '/run/agent.sock' }).nodes
  assert.equal([first?.sudo, first?.agent, first?.port], [true, '/run/agent.sock', 22])
  assert.equal([second?.sudo, second?.keyFile, second?.role], [false, join(ctx.dir, 'id_ed25519'), 'auto'])
})

Config('secrets become Secret values: inline, from a file, and from the environment', (ctx) => {
  const yaml = 'dns:\n  piholes:\n    - {url: "http://10.0.0.2", passwordFile: pihole-password}\n    - {url: "https://10.0.0.3", password: inline-pw}\nregistry:\n  users: [{name: admin}]\n'
  const config = parse(ctx, yaml, { HOMELAB_REGISTRY__USERS__0__PASSWORD: ENV_SECRET })
  const [fromFile, inline] = config.dns.piholes
  assert.instance(fromFile?.password, Secret)
  assert.is(fromFile?.password?.reveal(), FILE_SECRET, 'one trailing newline dropped')
  assert.is(inline?.password?.reveal(), 'inline-pw')
  assert.is(config.registry.users[0]?.password?.reveal(), ENV_SECRET)
  assert.not.ok(JSON.stringify(config).includes(FILE_SECRET), 'JSON of the config masks secrets')
  assert.not.ok(inspect(config, { depth: 10 }).includes(ENV_SECRET), 'inspect of the config masks secrets')
})

Config('env overrides: double-underscore paths, camelCase words, typed values, empty removes', (ctx) => {
  const config = parse(ctx, 'ingress: {ip: 10.0.0.1}\n', {
    HOMELAB_DOMAIN: 'lab.home.arpa',
    HOMELAB_INGRESS__IP: '',
    HOMELAB_REGISTRY__STORAGE__STORAGE_CLASS: 'longhorn',
    HOMELAB_REGISTRY__STORAGE__SIZE: '50Gi',
    HOMELAB_LOCALSTACK__ENABLED: 'false',
    HOMELAB_LOCALSTACK__SERVICES: '[s3, sqs]',
    HOMELAB_NODE_TRUST__BACKUPS: '2',
    HOMELAB_LAB_DIR: '/somewhere/else',
  })
  assert.is(config.domain, 'lab.home.arpa')
  assert.is(config.ingress.ip, undefined)
  assert.is(config.registry.storage.storageClass, 'longhorn')
  assert.is(String(config.registry.storage.size), '50Gi')
  assert.is(config.localstack.enabled, false)
  assert.equal(config.localstack.services, ['s3', 'sqs'])
  assert.is(config.nodeTrust.backups, 2)
})

Config('an env secret replaces the file pair: HOMELAB_..._PASSWORD wins over passwordFile', (ctx) => {
  const yaml = 'dns:\n  piholes: [{url: "http://10.0.0.2", passwordFile: missing-file}]\n'
  const config = parse(ctx, yaml, { HOMELAB_DNS__PIHOLES__0__PASSWORD: ENV_SECRET })
  assert.is(config.dns.piholes[0]?.password?.reveal(), ENV_SECRET)
})

Config('an env override with a bad value names the variable; its secret value is not printed', (ctx) => {
  const error = configError(() => parse(ctx, '', { HOMELAB_INGRESS__IP: '300.1.1.1', HOMELAB_REGISTRY__USERS__0__NAME: 'a:b' }))
  assert.match(error.message, /ingress\.ip: expected an IPv4 or IPv6 address, got "300\.1\.1\.1" \(from HOMELAB_INGRESS__IP\)/)
  assert.match(error.message, /registry\.users\[0\]\.name: .* \(from HOMELAB_REGISTRY__USERS__0__NAME\)/)
})

Config('a secret file content never appears in an error, even when the rest of the config is wrong', (ctx) => {
  const yaml = `dns:\n  piholes: [{url: "pi.hole", passwordFile: pihole-password, insecureSkipTlsVerify: "${FILE_SECRET}"}]\n`
  const error = configError(() => parse(ctx, yaml, { HOMELAB_REGISTRY__USERS__0__PASSWORD: '' }))
  assert.match(error.message, /dns\.piholes\[0\]\.url/)
  assert.not.match(error.message.replace(`"${FILE_SECRET}"`, ''), new RegExp(FILE_SECRET))
  const typo = configError(() => parse(ctx, 'registry:\n  users: [{name: admin, password: 12345678}]\n'))
  assert.match(typo.message, /registry\.users\[0\]\.password: expected a string, got a number/)
  assert.not.match(typo.message, /12345678/)
})

Config('every problem is reported at once, each on its own line', (ctx) => {
  const error = configError(() => parse(ctx, 'domain: 5\ningress: {ip: nope}\nregistry: {storage: {size: 1TB}}\n'))
  assert.is(error.issues.length, 3)
  assert.match(error.message, /invalid config \(3 problems\)/)
})

Config('a YAML syntax error names the line and column', (ctx) => {
  const error = configError(() => parse(ctx, 'domain: homelab.local\nregistry:\n  storage: [30Gi\nnodes: []\n'))
  assert.match(error.message, /homelab\.yaml:\d+:\d+: YAML syntax error/)
  const duplicate = configError(() => parse(ctx, 'domain: a.lan\ndomain: b.lan\n'))
  assert.match(duplicate.message, /homelab\.yaml:2:1: YAML syntax error: Map keys must be unique/)
})

Config('schema errors point at the line in the file', (ctx) => {
  const error = configError(() => parse(ctx, 'domain: homelab.local\ningress:\n  ip: 1.2.3\n'))
  assert.match(error.message, /ingress\.ip: expected an IPv4 or IPv6 address, got "1\.2\.3" \(homelab\.yaml:3:7\)/)
})

Config('loadConfig: an explicit path that does not exist is a ConfigError naming it', (ctx) => {
  const error = configError(() => loadConfig({ configPath: 'nope.yaml', cwd: ctx.dir, env: ctx.env }))
  assert.match(error.message, /nope\.yaml: cannot read the config file: no such file/)
})

Config('loadConfig: <cwd>/homelab.yaml wins over the example, HOMELAB_CONFIG over both', (ctx) => {
  const cwd = mkdtempSync(join(ctx.dir, 'cwd-'))
  writeFileSync(join(cwd, 'homelab.yaml'), 'domain: from-cwd.lan\n')
  writeFileSync(join(cwd, 'other.yaml'), 'domain: from-env.lan\n')
  assert.is(loadConfig({ cwd, env: ctx.env }).domain, 'from-cwd.lan')
  assert.is(loadConfig({ cwd, env: { ...ctx.env, HOMELAB_CONFIG: 'other.yaml' } }).domain, 'from-env.lan')
  assert.is(loadConfig({ cwd, configPath: 'homelab.yaml', env: { ...ctx.env, HOMELAB_CONFIG: 'other.yaml' } }).domain, 'from-cwd.lan')
})

// [name, yaml, env, expected key path, expected message]
type BadInput = [string, string, Env, RegExp, RegExp]
const badInputs: BadInput[] = [
  ['domain of the wrong type', 'domain: 5', {}, /^domain$/, /expected a DNS domain .*got 5/],
  ['domain with a trailing dot', 'domain: homelab.local.', {}, /^domain$/, /without a trailing dot, got "homelab\.local\."/],
  ['domain with an underscore', 'domain: home_lab.local', {}, /^domain$/, /labels of a-z, 0-9 and -.*got "home_lab\.local"/],
  ['domain in uppercase', 'domain: HomeLab.local', {}, /^domain$/, /in lowercase, got "HomeLab\.local"/],
  ['domain label starting with a dash', 'domain: -lab.local', {}, /^domain$/, /not starting or ending with -/],
  ['unknown top-level key with did-you-mean', 'domian: homelab.local', {}, /^domian$/, /unknown key; did you mean `domain`\?/],
  ['unknown nested key with did-you-mean', 'registry:\n  storage:\n    storageclass: x', {}, /^registry\.storage\.storageclass$/, /did you mean `storageClass`\?/],
  ['unknown key in a list entry', 'nodes:\n  - {host: 10.0.0.1, prot: 22}', {}, /^nodes\[0\]\.prot$/, /did you mean `port`\?/],
  ['ingress IP with a fourth octet too big', 'ingress: {ip: 192.168.4.256}', {}, /^ingress\.ip$/, /expected an IPv4 or IPv6 address, got "192\.168\.4\.256"/],
  ['ingress IP that is a host name', 'ingress: {ip: traefik.local}', {}, /^ingress\.ip$/, /expected an IPv4 or IPv6 address/],
  ['bad IPv6', 'ingress: {ip: "fe80::1::2"}', {}, /^ingress\.ip$/, /expected an IPv4 or IPv6 address, got "fe80::1::2"/],
  ['node host that is a broken IP', 'nodes: [{host: 10.0.0.300}]', {}, /^nodes\[0\]\.host$/, /expected an IPv4 or IPv6 address, got "10\.0\.0\.300"/],
  ['node host with a bad name', 'nodes: [{host: "node_1.lan"}]', {}, /^nodes\[0\]\.host$/, /expected an IP address or a DNS name/],
  ['node port as a string', 'nodes: [{host: 10.0.0.1, port: "22"}]', {}, /^nodes\[0\]\.port$/, /expected a port number, got "22"/],
  ['node port out of range', 'nodes: [{host: 10.0.0.1, port: 70000}]', {}, /^nodes\[0\]\.port$/, /expected at most 65535, got 70000/],
  ['duplicate node hosts', 'nodes: [{host: 10.0.0.1}, {host: 10.0.0.2}, {host: 10.0.0.1}]', {}, /^nodes\[2\]\.host$/, /duplicate of nodes\[0\]\.host \(10\.0\.0\.1:22\)/],
  ['one Pi-hole listed twice, by http and by https', 'dns:\n  piholes: [{url: "http://pi.lan", password: a}, {url: "https://pi.lan/", password: a}]', {}, /^dns\.piholes\[1\]\.url$/, /duplicate of dns\.piholes\[0\]\.url \("http:\/\/pi\.lan"\): one entry per Pi-hole, by http or https/],
  ['duplicate node names', 'nodes: [{name: n1, host: 10.0.0.1}, {name: n1, host: 10.0.0.2}]', {}, /^nodes\[1\]\.name$/, /duplicate of nodes\[0\]\.name \("n1"\)/],
  ['node role not in the list', 'nodes: [{host: 10.0.0.1, role: agnet}]', {}, /^nodes\[0\]\.role$/, /expected one of "server", "agent", "auto", got "agnet"; did you mean "agent"\?/],
  ['missing SSH key file', 'nodes: [{host: 10.0.0.1, keyFile: ~/.ssh/nope}]', {}, /^nodes\[0\]\.keyFile$/, /cannot read "~\/\.ssh\/nope": no such file/],
  ['SSH key file that is a directory', 'nodes: [{host: 10.0.0.1, keyFile: a-directory}]', {}, /^nodes\[0\]\.keyFile$/, /is a directory/],
  ['agent true without SSH_AUTH_SOCK', 'nodes: [{host: 10.0.0.1, agent: true}]', {}, /^nodes\[0\]\.agent$/, /expected SSH_AUTH_SOCK to be set/],
  ['missing secret file', 'dns:\n  piholes: [{url: "http://10.0.0.2", passwordFile: /nonexistent/pw}]', {}, /^dns\.piholes\[0\]\.passwordFile$/, /cannot read "\/nonexistent\/pw": no such file/],
  ['unreadable secret file (a directory)', 'registry:\n  users: [{name: admin, passwordFile: a-directory}]', {}, /^registry\.users\[0\]\.passwordFile$/, /cannot read "a-directory": is a directory/],
  ['password and passwordFile both set', 'dns:\n  piholes: [{url: "http://10.0.0.2", password: pw, passwordFile: pihole-password}]', {}, /^dns\.piholes\[0\]\.passwordFile$/, /set either password or passwordFile, not both/],
  ['htpasswd user name with a colon', 'registry:\n  users: [{name: "ad:min"}]', {}, /^registry\.users\[0\]\.name$/, /expected a user name without ":" or spaces, got "ad:min"/],
  ['no registry users', 'registry:\n  users: []', {}, /^registry\.users$/, /expected at least one user/],
  ['duplicate registry users', 'registry:\n  users: [{name: a}, {name: a}]', {}, /^registry\.users\[1\]\.name$/, /duplicate of registry\.users\[0\]\.name/],
  ['size 30GB', 'registry:\n  storage: {size: 30GB}', {}, /^registry\.storage\.size$/, /Ki, Mi, Gi.*got "30GB"; did you mean "30Gi"/],
  ['size "30 Gi" with a space', 'registry:\n  storage: {size: 30 Gi}', {}, /^registry\.storage\.size$/, /e\.g\. 30Gi or 512Mi, got "30 Gi"; did you mean "30Gi"\?/],
  ['size without a unit', 'registry:\n  storage: {size: "30"}', {}, /^registry\.storage\.size$/, /a unit is required/],
  ['size as a number', 'registry:\n  storage: {size: 30}', {}, /^registry\.storage\.size$/, /Kubernetes suffix.*got 30( |$)/],
  ['cpu in a made-up unit', 'registry:\n  resources: {requests: {cpu: 100u}}', {}, /^registry\.resources\.requests\.cpu$/, /expected cores \(1, 0\.5\) or millicores \(500m\), got "100u"/],
  ['memory limit below the request', 'registry:\n  resources: {requests: {memory: 1Gi}, limits: {memory: 512Mi}}', {}, /^registry\.resources\.limits\.memory$/, /expected at least registry\.resources\.requests\.memory \(1Gi\), got 512Mi/],
  ['cpu limit below the request', 'localstack:\n  resources: {limits: {cpu: 100m}}', {}, /^localstack\.resources\.limits\.cpu$/, /expected at least localstack\.resources\.requests\.cpu \(200m\), got 100m/],
  ['Pi-hole URL without a scheme', 'dns:\n  piholes: [{url: "http://10.0.0.2"}, {url: pi.hole}]', {}, /^dns\.piholes\[1\]\.url$/, /expected an http\(s\) URL, got "pi\.hole"/],
  ['Pi-hole URL with ftp', 'dns:\n  piholes: [{url: "ftp://10.0.0.2"}]', {}, /^dns\.piholes\[0\]\.url$/, /expected an http\(s\) URL, got "ftp:\/\/10\.0\.0\.2"/],
  ['Pi-hole URL with credentials', 'dns:\n  piholes: [{url: "http://admin:pw@10.0.0.2"}]', {}, /^dns\.piholes\[0\]\.url$/, /without credentials/],
  ['duplicate Pi-hole URLs', 'dns:\n  piholes: [{url: "http://10.0.0.2"}, {url: "http://10.0.0.2/"}]', {}, /^dns\.piholes\[1\]\.url$/, /duplicate of dns\.piholes\[0\]\.url/],
  ['Pi-hole CA that is not PEM', 'dns:\n  piholes: [{url: "https://10.0.0.2", ca: "hello"}]', {}, /^dns\.piholes\[0\]\.ca$/, /expected a PEM certificate/],
  ['insecure flag as a string', 'dns:\n  piholes: [{url: "https://10.0.0.2", insecureSkipTlsVerify: "yes"}]', {}, /^dns\.piholes\[0\]\.insecureSkipTlsVerify$/, /expected boolean, got "yes"/],
  ['records mode not in the list', 'dns: {records: aaaa}', {}, /^dns\.records$/, /expected one of "a", "cname", got "aaaa"/],
  ['token edition without a token tag', 'localstack: {edition: token}', {}, /^localstack\.image$/, /expected a pinned 2026\.MM\.p tag .*when edition is token, got nothing/],
  ['token edition with a SemVer tag', 'localstack: {edition: token, image: "localstack/localstack:4.14.0"}', {}, /^localstack\.image$/, /2026\.MM\.p tag/],
  ['community edition with a CalVer tag', 'localstack: {image: "localstack/localstack:2026.07.0"}', {}, /^localstack\.image$/, /expected a tag up to 4\.14\.0 for edition community.*set edition: token/],
  ['LocalStack image on latest', 'localstack: {image: "localstack/localstack:latest"}', {}, /^localstack\.image$/, /pinned image tag .*never latest.*got "localstack\/localstack:latest"/],
  ['LocalStack service typo', 'localstack: {services: [s3, dynamdb]}', {}, /^localstack\.services\[1\]$/, /did you mean "dynamodb"\?/],
  ['auth token with the community edition', 'localstack: {authToken: abcdefgh}', {}, /^localstack\.authToken$/, /only used with edition: token/],
  ['registry image not 2.8', 'registry: {image: "registry:3.0.0"}', {}, /^registry\.image$/, /expected a pinned registry 2\.8\.x tag.*got "registry:3\.0\.0"/],
  ['registry image floating tag', 'registry: {image: "registry:2"}', {}, /^registry\.image$/, /pinned registry 2\.8\.x tag/],
  ['UI image floating', 'registry:\n  ui: {image: "joxit/docker-registry-ui:latest"}', {}, /^registry\.ui\.image$/, /pinned joxit\/docker-registry-ui 2\.x\.y tag/],
  ['credentials and htpasswd in one Secret', 'registry:\n  auth: {secretName: same, credentialsSecretName: same}', {}, /^registry\.auth\.credentialsSecretName$/, /^must differ from registry\.auth\.secretName \(both are "same"\)/],
  ['credentials in the http secret', 'registry:\n  auth: {credentialsSecretName: registry-http-secret}', {}, /^registry\.auth\.credentialsSecretName$/, /must differ from "registry-http-secret", the Secret that holds the registry's http\.secret/],
  ['htpasswd in the registry TLS Secret', 'registry:\n  auth: {secretName: registry-tls}', {}, /^registry\.auth\.secretName$/, /must differ from "registry-tls", the Secret that holds the registry's TLS certificate/],
  ['bcrypt cost below bcrypt\'s least', 'registry:\n  auth: {bcryptCost: 3}', {}, /^registry\.auth\.bcryptCost$/, /expected a whole number from 4 to 12, got 3/],
  ['bcrypt cost the registry would pay seconds for', 'registry:\n  auth: {bcryptCost: 14}', {}, /^registry\.auth\.bcryptCost$/, /expected a whole number from 4 to 12, got 14/],
  ['bcrypt cost as a word', 'registry:\n  auth: {bcryptCost: high}', {}, /^registry\.auth\.bcryptCost$/, /expected a whole number from 4 to 12, got "high"/],
  ['credentials in the UI TLS Secret', 'registry:\n  auth: {credentialsSecretName: registry-ui-tls}', {}, /^registry\.auth\.credentialsSecretName$/, /the registry UI's TLS certificate/],
  ['namespace with uppercase', 'registry: {namespace: Registry}', {}, /^registry\.namespace$/, /expected a Kubernetes name/],
  ['acme mode without an issuer', 'tls: {mode: acme}', {}, /^tls\.issuer$/, /expected \{name, kind\} of an existing issuer when mode is acme, got nothing/],
  ['issuer given in ca mode', 'tls: {issuer: {name: letsencrypt}}', {}, /^tls\.issuer$/, /only used with mode: acme/],
  ['timeout without a unit', 'timeouts: {http: 30}', {}, /^timeouts\.http$/, /expected a duration such as 500ms, 30s, 5m or 1h30m, got 30/],
  ['node path that is relative', 'nodeTrust: {caPath: registry-ca.crt}', {}, /^nodeTrust\.caPath$/, /absolute, on the node/],
  ['nodes as a mapping', 'nodes: {host: 10.0.0.1}', {}, /^nodes$/, /expected a list, got a mapping/],
  ['top-level list', '- a\n- b', {}, /^homelab\.yaml$/, /expected a mapping of settings at the top level/],
  ['single-underscore env near miss', '', { HOMELAB_INGRESS_IP: '10.0.0.1' }, /^HOMELAB_INGRESS_IP$/, /did you mean HOMELAB_INGRESS__IP\?/],
  ['env override into a scalar', 'registry: {storage: 5}', { HOMELAB_REGISTRY__STORAGE__SIZE: '5Gi' }, /^HOMELAB_REGISTRY__STORAGE__SIZE$/, /cannot set a key inside registry\.storage/],
]

for (const [name, yaml, env, keyPath, message] of badInputs) {
  Config(`rejects ${name}`, (ctx) => {
    const error = configError(() => parse(ctx, yaml, env))
    const lines = error.issues.map((issue) => {
      const separator = issue.indexOf(': ')
      return { key: issue.slice(0, separator).replace(/:\d+:\d+$/, ''), text: issue.slice(separator + 2) }
    })
    const hit = lines.find((l) => keyPath.test(l.key) && message.test(l.text))
    assert.ok(hit, `no issue matching ${keyPath} / ${message} in:\n  ${error.issues.join('\n  ')}`)
  })
}

// [yaml, the issue line expected, without its homelab.yaml:line:column]: a name from another tool's config names the
// key meant, and only one that exists at that path.
const aliasedKeys: [string, string][] = [
  ['nodes: [{hostname: 10.0.0.1}]', 'nodes[0].hostname: unknown key; did you mean `host`?'],
  ['nodes: [{host: 10.0.0.1, ip: 10.0.0.1}]', 'nodes[0].ip: unknown key; did you mean `host`?'],
  ['nodes: [{host: 10.0.0.1, username: pi}]', 'nodes[0].username: unknown key; did you mean `user`?'],
  ['nodes: [{host: 10.0.0.1, password: pw}]', 'nodes[0].password: unknown key; did you mean `sudoPassword`?'],
  ['nodes: [{host: 10.0.0.1, identity_file: ~/.ssh/id}]', 'nodes[0].identity_file: unknown key; did you mean `keyFile`?'],
  ['dns:\n  piholes: [{hostname: 10.0.0.2}]', 'dns.piholes[0].hostname: unknown key; did you mean `url`?'],
  ['dns:\n  piholes: [{url: "http://10.0.0.2", passwd: pw}]', 'dns.piholes[0].passwd: unknown key; did you mean `password`?'],
  ['dns:\n  piholes: [{url: "http://10.0.0.2", insecure: true}]', 'dns.piholes[0].insecure: unknown key; did you mean `insecureSkipTlsVerify`?'],
  ['registry:\n  users: [{username: admin}]', 'registry.users[0].username: unknown key; did you mean `name`?'],
  ['ingress: {address: 10.0.0.9}', 'ingress.address: unknown key; did you mean `ip`?'],
  ['localstack: {token: t}', 'localstack.token: unknown key; did you mean `authToken`?'],
  // No key meant by `hostname` lives under tls, and nothing there is spelled like it: no guess.
  ['tls: {hostname: x}', 'tls.hostname: unknown key'],
]

for (const [yaml, expected] of aliasedKeys) {
  Config(`unknown key: ${expected}`, (ctx) => {
    const issues = configError(() => parse(ctx, yaml)).issues.map((issue) => issue.replace(/ \(homelab\.yaml:\d+:\d+\)$/, ''))
    assert.ok(issues.includes(expected), `no issue "${expected}" in:\n  ${issues.join('\n  ')}`)
  })
}

Config('Size, Cpu and Duration parse and render canonically', () => {
  const cases: [string, string][] = [
    ['30Gi', '30Gi'],
    ['1024Mi', '1Gi'],
    ['1536Mi', '1536Mi'],
    ['0.5Gi', '512Mi'],
    ['500M', '500M'],
    ['2000M', '2G'],
    ['1k', '1k'],
  ]
  for (const [input, canonical] of cases) assert.is(Size.parse(input).toString(), canonical, input)
  assert.is(Size.gibibytes(30).toString(), '30Gi')
  assert.is(Size.parse('30Gi').compare(Size.gibibytes(30)), 0)
  assert.is(Cpu.parse('1000m').toString(), '1')
  assert.is(Cpu.parse(0.5).toString(), '500m')
  assert.is(Cpu.parse('1.5').millicores, 1500)
  assert.is(Cpu.millis(100).toString(), '100m')
  assert.is(Duration.parse('1m30s').milliseconds, 90_000)
  assert.is(Duration.parse('1m30s').toString(), '1m30s')
  assert.is(JSON.stringify({ size: Size.mebibytes(512) }), '{"size":"512Mi"}')
  assert.throws(() => Size.parse('30GB'), (e: unknown) => e instanceof QuantityFormatError && /30Gi/.test((e as Error).message))
  assert.throws(() => Cpu.parse('0.0001'), (e: unknown) => e instanceof QuantityFormatError)
})

Config.run()
