import { suite } from 'uvu'
import * as assert from 'uvu/assert'
import { parse } from 'yaml'
import { parseConfig, type KubeObject, type TaskIo, type ToolContext } from '@homelab/core'
import { accessNeeds, describeNeed } from '../runbooks/access-review.js'
import { preflightSteps, type PreflightPart } from '../runbooks/preflight-steps.js'
import { runPreflightTask } from '../runbooks/preflight-task.js'
import { removeRegistryTrust } from '../runbooks/remove-registry-trust.js'
import { configuredReadTimeout, readTimeoutWarning } from '../runbooks/traefik-read-timeout.js'
import { inScope, isForeign, isOurs } from '../runbooks/owned-objects.js'
import { planNodeCleanup } from '../runbooks/teardown-node-step.js'
import { holdsTeardownRecords } from '../runbooks/teardown-steps.js'

const chart = (values: string): KubeObject => ({ apiVersion: 'helm.cattle.io/v1', kind: 'HelmChartConfig', metadata: { name: 'traefik', namespace: 'kube-system' }, spec: { valuesContent: values } })

const Timeout = suite('Traefik read timeout')
const timeouts: [string, KubeObject | undefined, number | undefined, boolean][] = [
  ['no HelmChartConfig: the 60 s default applies and is warned about', undefined, undefined, true],
  ['chart ≥ 28 ports form, 600s: fine', chart('ports:\n  websecure:\n    transport:\n      respondingTimeouts:\n        readTimeout: 600s\n'), 600, false],
  ['chart 27 flag form, 10m: fine', chart('additionalArguments:\n  - "--entryPoints.websecure.transport.respondingTimeouts.readTimeout=10m"\n'), 600, false],
  ['0 means no limit: fine', chart('ports:\n  websecure:\n    transport:\n      respondingTimeouts:\n        readTimeout: 0\n'), 0, false],
  ['120s still cuts big layers', chart('ports:\n  websecure:\n    transport:\n      respondingTimeouts:\n        readTimeout: 120s\n'), 120, true],
  ['a HelmChartConfig about something else: default applies', chart('logs:\n  general:\n    level: DEBUG\n'), undefined, true],
]
for (const [name, object, seconds, warns] of timeouts) {
  Timeout(name, () => {
    const found = configuredReadTimeout(object, 'websecure')
    assert.is(found.seconds, seconds)
    const warning = readTimeoutWarning(found, 'websecure')
    assert.is(warning !== undefined, warns)
    if (warning) assert.match(warning, /kind: HelmChartConfig[\s\S]*readTimeout: 600s/)
  })
}

const Trust = suite('removing our registries.yaml entries')
const where = { host: 'n1', path: '/etc/rancher/k3s/registries.yaml' }
const ours = 'mirrors:\n  registry.homelab.local:\n    endpoint: [ https://registry.homelab.local ]\nconfigs:\n  registry.homelab.local:\n    auth:\n      username: admin\n      password: x\n'
const trustCases: [string, string, string | undefined][] = [
  ['a file with only our entries goes', ours, undefined],
  ['another mirror and a comment stay', `# mine\n${ours}\n`.replace('mirrors:\n', 'mirrors:\n  quay.io:\n    endpoint:\n      - https://quay-cache.lan\n'), '# mine\nmirrors:\n  quay.io:\n    endpoint:\n      - https://quay-cache.lan\n'],
  ['a docker.io mirror of someone else stays', `${ours}`.replace('mirrors:\n', 'mirrors:\n  docker.io:\n    endpoint: [ https://cache.lan ]\n'), 'mirrors:\n  docker.io:\n    endpoint: [ https://cache.lan ]\n'],
  ['our docker.io mirror goes with ours', ours.replace('mirrors:\n', 'mirrors:\n  docker.io:\n    endpoint: [ https://registry.homelab.local ]\n'), undefined],
  [
    'only our endpoint leaves a shared docker.io mirror, the node\'s own stay',
    ours.replace('mirrors:\n', 'mirrors:\n  docker.io:\n    endpoint:\n      - https://registry.homelab.local\n      - https://mirror.gcr.io\n'),
    'mirrors:\n  docker.io:\n    endpoint:\n      - https://mirror.gcr.io\n',
  ],
  [
    'a docker.io mirror with a rewrite of its own keeps the rewrite when our endpoint goes',
    ours.replace('mirrors:\n', 'mirrors:\n  docker.io:\n    endpoint: [ https://registry.homelab.local ]\n    rewrite:\n      "^library/(.*)": "mirror/$1"\n'),
    'mirrors:\n  docker.io:\n    rewrite:\n      "^library/(.*)": "mirror/$1"\n',
  ],
]
for (const [name, text, want] of trustCases) Trust(name, () => assert.is(removeRegistryTrust(text, 'registry.homelab.local', where), want))

Trust('the node plan: write the rest, remove the CA, restart K3s once', () => {
  const config = parseConfig('{}', { sourceName: '/tmp/h.yaml', baseDir: '/tmp', env: {} })
  const yaml = ours.replace('mirrors:\n', 'mirrors:\n  quay.io:\n    endpoint: [ https://q ]\n')
  assert.equal(planNodeCleanup({ yaml, ca: true, restartPending: false }, config, 'n1').map((c) => c.op), ['write', 'remove', 'restart'])
  assert.equal(planNodeCleanup({ yaml: undefined, ca: false, restartPending: false }, config, 'n1'), [])
})

Trust('the node plan: a restart that never finished is made again, even with nothing left to remove', () => {
  const config = parseConfig('{}', { sourceName: '/tmp/h.yaml', baseDir: '/tmp', env: {} })
  assert.equal(planNodeCleanup({ yaml: undefined, ca: false, restartPending: true }, config, 'n1'), [{ op: 'restart', due: true }])
  assert.equal(planNodeCleanup({ yaml: ours, ca: false, restartPending: true }, config, 'n1').at(-1), { op: 'restart', due: false })
})

// A registry node-trust trusted before the domain changed, written the way it writes (CA file at the default path).
const EARLIER = 'registry.old.lan'
const earlierEntries = (extra = '') => `mirrors:\n  ${EARLIER}:\n    endpoint: [ https://${EARLIER} ]\nconfigs:\n  ${EARLIER}:\n    auth:\n      username: admin\n      password: old\n    tls:\n      ca_file: /etc/rancher/k3s/registry-ca.crt\n${extra}`
const withEarlier = (extra = '') => `${earlierEntries(extra)}`.replace('mirrors:\n', `mirrors:\n  registry.homelab.local:\n    endpoint: [ https://registry.homelab.local ]\n`).replace('configs:\n', 'configs:\n  registry.homelab.local:\n    auth:\n      username: admin\n      password: x\n')
const earlier = { hosts: [EARLIER, 'registry.homelab.local'], caPath: '/etc/rancher/k3s/registry-ca.crt' }

Trust('a host node-trust recorded writing earlier goes with the current one', () => {
  assert.is(removeRegistryTrust(withEarlier(), 'registry.homelab.local', where, earlier), undefined)
})

Trust('an earlier host\'s entry edited by hand stays; only the current host goes', () => {
  const edited = withEarlier('      insecure_skip_verify: true\n')
  assert.equal(parse(removeRegistryTrust(edited, 'registry.homelab.local', where, earlier) ?? ''), parse(earlierEntries('      insecure_skip_verify: true\n')))
})

Trust('no record: an earlier host is not guessed, only the current one goes', () => {
  assert.equal(parse(removeRegistryTrust(withEarlier(), 'registry.homelab.local', where) ?? ''), parse(earlierEntries()))
})

Trust('the node plan takes the recorded hosts: the file goes when nothing else is left', () => {
  const config = parseConfig('{}', { sourceName: '/tmp/h.yaml', baseDir: '/tmp', env: {} })
  assert.equal(planNodeCleanup({ yaml: withEarlier(), ca: false, restartPending: false, recorded: earlier.hosts }, config, 'n1').map((c) => c.op), ['remove', 'restart'])
  assert.equal(planNodeCleanup({ yaml: withEarlier(), ca: false, restartPending: false, recorded: undefined }, config, 'n1').map((c) => c.op), ['write', 'restart'])
})

const Owned = suite('what teardown counts as ours')
const object = (labels: Record<string, string>, manager: string, extra: Partial<KubeObject> = {}): KubeObject =>
  ({ apiVersion: 'v1', kind: 'ConfigMap', metadata: { name: 'x', labels, managedFields: [{ manager, operation: 'Apply' }] }, ...extra }) as KubeObject
const label = { 'app.kubernetes.io/managed-by': 'homelab-devtools' }
Owned('label and field manager together make it ours', () => assert.ok(isOurs(object(label, 'homelab-devtools'), 'homelab-devtools')))
Owned('our label applied by someone else is not ours', () => assert.not.ok(isOurs(object(label, 'kubectl'), 'homelab-devtools')))
Owned('created (not applied) by our manager with our label is ours: a run lock a dead run left behind', () => {
  const lock = { apiVersion: 'v1', kind: 'ConfigMap', metadata: { name: 'run-lock-dns', labels: label, managedFields: [{ manager: 'homelab-devtools', operation: 'Update' }] } } as KubeObject
  assert.ok(isOurs(lock, 'homelab-devtools'))
  assert.not.ok(isForeign(lock, 'homelab-devtools'))
})
Owned('our manager without the label is not ours', () => assert.not.ok(isOurs(object({}, 'homelab-devtools'), 'homelab-devtools')))
Owned('cert-manager Secrets for our Certificates and kube-root-ca.crt come with the namespace', () => {
  assert.not.ok(isForeign({ apiVersion: 'v1', kind: 'Secret', metadata: { name: 'registry-tls', annotations: { 'cert-manager.io/certificate-name': 'registry-tls' } } }, 'homelab-devtools'))
  assert.not.ok(isForeign({ apiVersion: 'v1', kind: 'ConfigMap', metadata: { name: 'kube-root-ca.crt' } }, 'homelab-devtools'))
  assert.ok(isForeign({ apiVersion: 'v1', kind: 'Secret', metadata: { name: 'foreign' } }, 'homelab-devtools'))
})

Timeout.run()
Trust.run()
Owned.run()

const Scope = suite('what one config’s teardown may touch')
Scope('its namespaces, its CA chain and the LocalRegistryHosting ConfigMap; another installation’s objects are left', () => {
  const config = parseConfig('{}', { sourceName: '/tmp/h.yaml', baseDir: '/tmp', env: {} })
  const at = (kind: string, name: string, namespace?: string) => ({ apiVersion: 'v1', kind, metadata: { name, ...(namespace ? { namespace } : {}) } }) as KubeObject
  assert.ok(inScope(at('Deployment', 'registry', 'registry'), config))
  assert.ok(inScope(at('ClusterIssuer', 'homelab-ca'), config))
  assert.ok(inScope(at('Certificate', 'homelab-root-ca', 'cert-manager'), config))
  assert.ok(inScope(at('ConfigMap', 'local-registry-hosting', 'kube-public'), config))
  assert.not.ok(inScope(at('Deployment', 'registry', 'other-registry'), config))
  assert.not.ok(inScope(at('ClusterIssuer', 'other-ca'), config))
  assert.not.ok(inScope(at('Namespace', 'other-registry'), config))
})
Scope('only the tool’s namespace and what is in it wait for the DNS records and node entries to be out', () => {
  const config = parseConfig('{}', { sourceName: '/tmp/h.yaml', baseDir: '/tmp', env: {} })
  const at = (kind: string, name: string, namespace?: string) => ({ apiVersion: 'v1', kind, metadata: { name, ...(namespace ? { namespace } : {}) } }) as KubeObject
  const tool = config.kubernetes.namespace
  assert.ok(holdsTeardownRecords(at('ConfigMap', config.dns.stateConfigMap, tool), config))
  assert.ok(holdsTeardownRecords(at('ConfigMap', 'node-trust-hosts', tool), config))
  assert.ok(holdsTeardownRecords(at('Namespace', tool), config))
  assert.not.ok(holdsTeardownRecords(at('Deployment', 'registry', config.registry.namespace), config))
  assert.not.ok(holdsTeardownRecords(at('Namespace', config.registry.namespace), config))
  assert.not.ok(holdsTeardownRecords(at('ClusterIssuer', 'homelab-ca'), config))
})
Scope.run()

const Preflight = suite('preflight halves')

Preflight('the nodes half is exactly the checks of each node (SSH, its Node), the cluster half everything else, and both together are the whole', () => {
  const config = parseConfig('domain: halves.example\nnodes:\n  - { host: 10.0.0.5, name: n1 }\n  - { host: 10.0.0.6, name: n2 }\n', { sourceName: 'x', baseDir: '/', env: {} })
  const ctx = { config, acceptNewHostKeys: false, signal: new AbortController().signal } as unknown as ToolContext
  const names = (part?: PreflightPart) => preflightSteps(ctx, part).map((s) => s.name)
  assert.equal(names('nodes'), ['n1', 'n2'].flatMap((n) => [`node ${n}: SSH with a known host key, sudo works`, `node ${n}: a Node in the cluster`]))
  assert.ok(names('cluster').every((n) => !n.startsWith('node ')), names('cluster').join('\n'))
  assert.ok(names('cluster').includes('kubernetes API server reachable'))
  assert.equal([...names()].sort(), [...names('nodes'), ...names('cluster')].sort())
})

Preflight('a piece switched off is not asked for: no Pi-hole login with dns.enabled false, no LocalStack StorageClass without LocalStack', () => {
  const text = (enabled: boolean) => `dns:\n  enabled: ${enabled}\n  piholes: [{url: "http://10.0.0.2", password: p}]\nlocalstack:\n  enabled: ${enabled}\n  storage: {storageClass: fast-ssd}\n`
  const names = (enabled: boolean) => preflightSteps({ config: parseConfig(text(enabled), { sourceName: 'x', baseDir: '/', env: {} }), acceptNewHostKeys: false, signal: new AbortController().signal } as unknown as ToolContext).map((s) => s.name)
  const on = names(true)
  assert.ok(on.some((n) => n.startsWith('Pi-hole http://10.0.0.2')) && on.includes('StorageClass fast-ssd present'), on.join('\n'))
  const off = names(false)
  assert.not.ok(off.some((n) => n.startsWith('Pi-hole ')), off.join('\n'))
  assert.not.ok(off.includes('StorageClass fast-ssd present'), off.join('\n'))
})

Preflight('bootstrap\'s and teardown\'s other calls are reviewed too: the CA Secret, garbage-collect pods, verify\'s Jobs (applied), the run locks (replaced), what a switched-off feature retires', () => {
  const needs = accessNeeds(parseConfig('{}', { sourceName: 'x', baseDir: '/', env: {} })).map(describeNeed)
  const expected = [
    'get,delete secrets in cert-manager',
    'get,list pods in registry',
    'get,list,create,patch,delete jobs.batch in registry',
    // Run locks: renewed, and taken over from a dead run, by replace.
    'get,list,create,patch,delete,update configmaps in homelab-devtools',
    'get,list,create,patch,delete configmaps in kube-public',
    'get,list,create,patch,delete servicemonitors.monitoring.coreos.com in registry',
    'get,list,create,patch,delete probes.monitoring.coreos.com in localstack',
  ]
  for (const need of expected) assert.ok(needs.includes(need), `${need} missing from:\n${needs.join('\n')}`)
})

Preflight('--only with anything but cluster or nodes is a usage error naming both', async () => {
  let out = ''
  const io = { argv: ['--only', 'edge'], env: {}, cwd: '/', stdout: { write: (s: string) => void (out += s) }, stderr: { write: (s: string) => void (out += s) }, signal: new AbortController().signal } as unknown as TaskIo
  assert.is(await runPreflightTask(io), 2)
  assert.match(out, /--only: expected one of cluster, nodes, got "edge"/)
})

Preflight.run()
