import { suite } from 'uvu'
import * as assert from 'uvu/assert'
import { AUTH_TOKEN_HASH_ANNOTATION, EditionError, ManifestError, REMOVED_VARIABLES, checkEdition, renderLocalstackManifests, switchedOffRefs, validateManifest } from '../src/index.js'
import { testConfig } from './lab-config.js'

type Container = { name: string; image: string; env?: { name: string; value?: string; valueFrom?: unknown }[]; resources?: unknown; securityContext?: { privileged?: boolean }; ports?: { protocol?: string }[]; volumeMounts?: { name: string; mountPath: string }[]; readinessProbe?: { httpGet?: { path: string; port: number } } }
type PodSpec = { containers: Container[]; volumes?: { name: string; hostPath?: { path: string; type: string }; emptyDir?: unknown }[] }
const podOf = (config: ReturnType<typeof testConfig>) => (renderLocalstackManifests(config).deployment['spec'] as { template: { spec: PodSpec } }).template.spec
const localstackContainer = (pod: PodSpec) => pod.containers.find((c) => c.name === 'localstack')!
const envOf = (c: Container) => Object.fromEntries((c.env ?? []).map((e) => [e.name, e]))

const TOKEN = 'ls-render-test-token-7f3a9c'
const tokenConfig = () => testConfig({ edition: 'token', image: 'localstack/localstack:2026.07.0', authToken: TOKEN })

const Render = suite('localstack manifests')

Render('the Deployment takes requests and limits from config, with the pinned community image', () => {
  const config = testConfig({ resources: { requests: { memory: '768Mi', cpu: '300m' }, limits: { memory: '3Gi', cpu: '1500m' } } })
  const c = localstackContainer(podOf(config))
  assert.equal(c.resources, { requests: { memory: '768Mi', cpu: '300m' }, limits: { memory: '3Gi', cpu: '1500m' } })
  assert.is(c.image, 'localstack/localstack:4.14.0')
  assert.equal(localstackContainer(podOf(testConfig())).resources, { requests: { memory: '512Mi', cpu: '200m' }, limits: { memory: '2Gi', cpu: '1' } })
})

Render('the container sets SERVICES and LOCALSTACK_HOST and none of the removed variables', () => {
  const env = envOf(localstackContainer(podOf(testConfig())))
  assert.is(env['SERVICES']?.value, 's3,sqs,sns,dynamodb,lambda')
  assert.is(env['LOCALSTACK_HOST']?.value, 'localstack.homelab.local:443')
  for (const removed of REMOVED_VARIABLES) assert.not.ok(env[removed], `${removed} must not be set`)
  assert.not.ok(env['PERSISTENCE'], 'PERSISTENCE does nothing in community')
})

Render('ports declare TCP and readiness asks /_localstack/health on 4566', () => {
  const c = localstackContainer(podOf(testConfig()))
  assert.ok(c.ports!.every((p) => p.protocol === 'TCP'))
  assert.equal(c.readinessProbe?.httpGet, { path: '/_localstack/health', port: 4566 })
  assert.ok(c.volumeMounts!.some((m) => m.mountPath === '/var/lib/localstack'))
})

Render('the dind sidecar is there only when Lambda is enabled, privileged, with its own storage and a socket only the pod shares', () => {
  const pod = podOf(testConfig())
  const dind = pod.containers.find((c) => c.name === 'dind')
  assert.ok(dind, 'dind sidecar with lambda')
  assert.is(dind!.securityContext?.privileged, true)
  assert.ok(pod.volumes!.some((v) => v.name === 'dind-storage' && v.emptyDir))
  assert.is(envOf(localstackContainer(pod))['DOCKER_HOST']?.value, 'unix:///var/run/dind/docker.sock')
  const without = podOf(testConfig({ services: ['s3', 'sqs', 'sns', 'dynamodb'] }))
  assert.equal(without.containers.map((c) => c.name), ['localstack'])
  assert.not.ok(envOf(localstackContainer(without))['DOCKER_HOST'])
  assert.not.ok(without.volumes!.some((v) => v.name.startsWith('dind')))
})

Render('host-socket mounts the node socket (type Socket) and adds no sidecar', () => {
  const pod = podOf(testConfig({ lambda: { executor: 'host-socket' } }))
  assert.equal(pod.containers.map((c) => c.name), ['localstack'])
  assert.equal(pod.volumes!.find((v) => v.hostPath)?.hostPath, { path: '/var/run/docker.sock', type: 'Socket' })
})

Render('token edition: the token reaches the pod only by secretKeyRef; PERSISTENCE=1 and the CalVer tag', () => {
  const config = tokenConfig()
  const m = renderLocalstackManifests(config)
  const c = localstackContainer(podOf(config))
  assert.is(c.image, 'localstack/localstack:2026.07.0')
  const token = envOf(c)['LOCALSTACK_AUTH_TOKEN']!
  assert.equal(token, { name: 'LOCALSTACK_AUTH_TOKEN', valueFrom: { secretKeyRef: { key: 'token', name: 'localstack-auth-token' } } })
  assert.is(envOf(c)['PERSISTENCE']?.value, '1')
  const base64 = Buffer.from(TOKEN).toString('base64')
  for (const [name, object] of Object.entries(m)) {
    const text = JSON.stringify(object ?? null)
    assert.not.ok(text.includes(TOKEN), `${name} must not hold the token in clear`)
    if (name !== 'authTokenSecret') assert.not.ok(text.includes(base64), `${name} must not hold the token`)
  }
  assert.equal(m.authTokenSecret?.['data'], { token: base64 })
})

Render('a new auth token changes the pod template (so the pod restarts on it); the same token renders the same', () => {
  const annotationsOf = (token: string | undefined) => {
    const config = token === undefined ? testConfig() : testConfig({ edition: 'token', image: 'localstack/localstack:2026.07.0', authToken: token })
    return (renderLocalstackManifests(config).deployment['spec'] as { template: { metadata?: { annotations?: Record<string, string> } } }).template.metadata?.annotations
  }
  const other = 'ls-render-test-token-rotated-1b2c'
  const hash = annotationsOf(TOKEN)?.[AUTH_TOKEN_HASH_ANNOTATION]
  assert.match(hash ?? '', /^sha256:[0-9a-f]{16}$/)
  assert.is.not(annotationsOf(other)?.[AUTH_TOKEN_HASH_ANNOTATION], hash, 'a rotated token must change the template')
  assert.equal(JSON.stringify(renderLocalstackManifests(tokenConfig()).deployment), JSON.stringify(renderLocalstackManifests(tokenConfig()).deployment))
  assert.not.ok(JSON.stringify(annotationsOf(TOKEN)).includes(TOKEN))
  assert.is(annotationsOf(undefined)?.[AUTH_TOKEN_HASH_ANNOTATION], undefined, 'community has no token to hash')
})

Render('token edition without a token fails with the key to set', () => {
  try {
    checkEdition(testConfig({ edition: 'token', image: 'localstack/localstack:2026.07.0' }).localstack)
    assert.unreachable()
  } catch (error) {
    assert.instance(error, EditionError)
    assert.match((error as Error).message, /localstack\.authToken/)
  }
})

Render('rendering is deterministic: the same config gives the same bytes', () => {
  assert.is(JSON.stringify(renderLocalstackManifests(testConfig())), JSON.stringify(renderLocalstackManifests(testConfig())))
})

Render('virtual-host S3 adds a HostRegexp route and the wildcard name; path-style adds neither', () => {
  const off = renderLocalstackManifests(testConfig())
  assert.is(off.s3VirtualHostRoute, undefined)
  assert.equal((off.certificate['spec'] as { dnsNames: string[] }).dnsNames, ['localstack.homelab.local'])
  const on = renderLocalstackManifests(testConfig({ s3: { virtualHostStyle: true } }))
  assert.match(JSON.stringify(on.s3VirtualHostRoute), /HostRegexp\(`\^\[a-z0-9\]\[a-z0-9\.-\]\*\\\\\.s3\\\\\.localstack\\\\\.homelab\\\\\.local\$`\)/)
  assert.equal((on.certificate['spec'] as { dnsNames: string[] }).dnsNames, ['localstack.homelab.local', '*.s3.localstack.homelab.local'])
})

Render('the ingress route sends every path to 4566 with TLS from the issuer Certificate', () => {
  const m = renderLocalstackManifests(testConfig())
  const spec = m.ingressRoute['spec'] as { entryPoints: string[]; routes: { match: string; middlewares?: unknown; services: { port: number }[] }[]; tls: { secretName: string } }
  assert.equal(spec.entryPoints, ['websecure'])
  assert.is(spec.routes[0]!.match, 'Host(`localstack.homelab.local`)')
  assert.is(spec.routes[0]!.middlewares, undefined)
  assert.is(spec.routes[0]!.services[0]!.port, 4566)
  assert.equal((m.certificate['spec'] as { issuerRef: unknown }).issuerRef, { group: 'cert-manager.io', kind: 'ClusterIssuer', name: 'homelab-ca' })
})

Render('the health Probe is rendered only with a blackbox exporter configured', () => {
  assert.is(renderLocalstackManifests(testConfig()).healthProbe, undefined)
  const probe = renderLocalstackManifests(testConfig({ probe: { blackboxExporter: 'blackbox.monitoring.svc:9115' } })).healthProbe
  assert.equal((probe?.['spec'] as { targets: unknown }).targets, { staticConfig: { static: ['https://localstack.homelab.local/_localstack/health'] } })
})

Render('an invalid object is refused before apply, naming the field', () => {
  try {
    validateManifest({ apiVersion: 'v1', kind: 'Service', metadata: { name: 'x' }, spec: { ports: [{ port: 'many' }] } })
    assert.unreachable()
  } catch (error) {
    assert.instance(error, ManifestError)
    assert.match((error as Error).message, /spec\.ports\[0\]\.port/)
  }
})

Render('switching LocalStack off removes every object the render can make but the namespace and the state claim', () => {
  const everything = testConfig({ namespace: 'ls-all', edition: 'token', image: 'localstack/localstack:2026.07.0', authToken: TOKEN, s3: { virtualHostStyle: true }, probe: { blackboxExporter: 'blackbox.monitoring.svc:9115' } })
  const key = (o: { apiVersion: string; kind: string; namespace?: string | undefined; name: string }) => `${o.apiVersion} ${o.kind} ${o.namespace}/${o.name}`
  const rendered = Object.values(renderLocalstackManifests(everything))
    .filter((o) => o !== undefined && o.kind !== 'Namespace' && o.kind !== 'PersistentVolumeClaim')
    .map((o) => key({ apiVersion: o!.apiVersion, kind: o!.kind, namespace: o!.metadata.namespace, name: o!.metadata.name }))
  assert.equal(switchedOffRefs('ls-all').map(key).sort(), rendered.sort())
})

Render.run()
