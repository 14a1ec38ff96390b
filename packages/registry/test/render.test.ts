import { suite } from 'uvu'
import * as assert from 'uvu/assert'
import { parse } from 'yaml'
import type { KubeObject } from '@homelab/core'
import {
  CONFIG_CHECKSUM_ANNOTATION, listRegistryObjects, ManifestError, REGISTRY_NAMES, renderRegistryJob, renderRegistryObjects, validateObject, type RegistryObjects,
} from '../src/index.js'
import { testConfig } from './fixtures/test-config.js'

const Render = suite('registry render')

type Container = { name: string; image: string; env?: { name: string; value?: string; valueFrom?: unknown }[]; ports?: { protocol?: string }[]; resources?: unknown }
const podSpec = (o: KubeObject) => (o['spec'] as { template: { spec: { enableServiceLinks?: boolean; containers: Container[] } } }).template.spec
const container = (o: KubeObject) => podSpec(o).containers[0]!
const configYml = (r: RegistryObjects) => (r.configMap['data'] as Record<string, string>)['config.yml']!
const checksum = (r: RegistryObjects) => ((r.deployment['spec'] as any).template.metadata.annotations as Record<string, string>)[CONFIG_CHECKSUM_ANNOTATION] ?? ''

Render('what config switched off is listed to retire: the UI\'s four objects, the ServiceMonitor; nothing by default', () => {
  const describe = (config: ReturnType<typeof testConfig>) => renderRegistryObjects(config).retired.map(({ ref, because }) => `${ref.kind} ${ref.namespace}/${ref.name}: ${because}`)
  assert.equal(describe(testConfig()), [])
  assert.equal(describe(testConfig({ registry: { ui: { enabled: false }, metrics: { enabled: false } } })), [
    'Deployment registry/registry-ui: registry.ui.enabled is false',
    'Service registry/registry-ui: registry.ui.enabled is false',
    'Certificate registry/registry-ui-tls: registry.ui.enabled is false',
    'IngressRoute registry/registry-ui: registry.ui.enabled is false',
    'ServiceMonitor registry/registry: registry.metrics.enabled is false',
  ])
})

Render('a retired Certificate lists the Secret cert-manager issued for it (the UI\'s); nothing while the UI is on', () => {
  const describe = (config: ReturnType<typeof testConfig>) =>
    renderRegistryObjects(config).retiredIssuedSecrets.map(({ certificate, secret, because }) => `${secret.kind} ${secret.namespace}/${secret.name} for ${certificate.kind} ${certificate.name}: ${because}`)
  assert.equal(describe(testConfig({ registry: { metrics: { enabled: false } } })), [])
  assert.equal(describe(testConfig({ registry: { ui: { enabled: false } } })), ['Secret registry/registry-ui-tls for Certificate registry-ui-tls: registry.ui.enabled is false'])
})

Render('requests and limits come from registry.resources', () => {
  const config = testConfig({ registry: { resources: { requests: { memory: '300Mi', cpu: '0.2' }, limits: { memory: '1Gi', cpu: 1 } } } })
  assert.equal(container(renderRegistryObjects(config).deployment).resources, { limits: { cpu: '1', memory: '1Gi' }, requests: { cpu: '200m', memory: '300Mi' } })
  assert.equal(container(renderRegistryObjects(testConfig()).deployment).resources, { limits: { cpu: '500m', memory: '512Mi' }, requests: { cpu: '100m', memory: '256Mi' } })
})

Render('the registry pod has no service links, no readonly env var, and takes http.secret from a Secret', () => {
  const { deployment } = renderRegistryObjects(testConfig())
  assert.is(podSpec(deployment).enableServiceLinks, false)
  const env = container(deployment).env ?? []
  assert.not.ok(env.some((e) => /READONLY|MAINTENANCE/.test(e.name)), 'no REGISTRY_STORAGE_MAINTENANCE* env: the env form panics the registry')
  assert.equal(env.find((e) => e.name === 'REGISTRY_HTTP_SECRET')?.valueFrom, { secretKeyRef: { key: 'secret', name: 'registry-http-secret' } })
  assert.is(container(deployment).image, 'registry:2.8.3')
})

Render('the registry pod mounts the htpasswd Secret named by registry.auth.secretName', () => {
  const volumes = (o: KubeObject) => (o['spec'] as any).template.spec.volumes as { name: string; secret?: { secretName: string } }[]
  const auth = (config: ReturnType<typeof testConfig>) => volumes(renderRegistryObjects(config).deployment).find((v) => v.name === 'auth')?.secret?.secretName
  assert.is(auth(testConfig()), 'registry-auth')
  assert.is(auth(testConfig({ registry: { auth: { secretName: 'my-htpasswd' } } })), 'my-htpasswd')
})

Render('config.yml has delete on, readonly off, no blob cache, no http.secret, debug metrics and htpasswd auth', () => {
  const text = configYml(renderRegistryObjects(testConfig({ registry: { auth: { realm: 'Lab Realm' } } })))
  const yml = parse(text)
  assert.is(yml.storage.delete.enabled, true)
  assert.is(yml.storage.maintenance.readonly.enabled, false)
  assert.is(yml.storage.maintenance.uploadpurging.enabled, true)
  assert.is(yml.storage.cache, undefined)
  assert.not.match(text, /blobdescriptor/)
  assert.is(yml.http.secret, undefined)
  assert.is(yml.http.addr, ':5000')
  assert.equal(yml.http.debug, { addr: ':5001', prometheus: { enabled: true, path: '/metrics' } })
  assert.equal(yml.http.headers, { 'X-Content-Type-Options': ['nosniff'] })
  assert.equal(yml.auth, { htpasswd: { realm: 'Lab Realm', path: '/auth/htpasswd' } })
  assert.is(yml.health.storagedriver.enabled, true)
})

Render('every container and service port names its protocol (SSA on 1.20 needs it)', () => {
  const objects = listRegistryObjects(renderRegistryObjects(testConfig()))
  const ports = objects.flatMap((o) => (o.kind === 'Deployment' ? podSpec(o).containers.flatMap((c) => c.ports ?? []) : o.kind === 'Service' ? ((o['spec'] as any).ports as { protocol?: string }[]) : []))
  assert.ok(ports.length >= 5)
  assert.ok(ports.every((p) => p.protocol === 'TCP'))
})

const kindsAndNames = (objects: KubeObject[]) => objects.map((o) => `${o.kind} ${o.metadata.namespace ? o.metadata.namespace + '/' : ''}${o.metadata.name}`)

Render('tls.mode ca renders the issuer chain; acme renders only the host certificates with the configured issuer', () => {
  const ca = renderRegistryObjects(testConfig())
  assert.equal(kindsAndNames(listRegistryObjects(ca)).filter((n) => /Issuer|Certificate/.test(n)), [
    'ClusterIssuer homelab-selfsigned', 'Certificate cert-manager/homelab-root-ca', 'ClusterIssuer homelab-ca', 'Certificate registry/registry-tls', 'Certificate registry/registry-ui-tls',
  ])
  assert.equal((ca.caChain!.rootCertificate['spec'] as any).isCA, true)
  assert.equal((ca.certificate['spec'] as any).issuerRef, { group: 'cert-manager.io', kind: 'ClusterIssuer', name: 'homelab-ca' })
  const acme = renderRegistryObjects(testConfig({ tls: { mode: 'acme', issuer: { name: 'letsencrypt', kind: 'Issuer' } } }))
  assert.is(acme.caChain, undefined)
  assert.equal(kindsAndNames(listRegistryObjects(acme)).filter((n) => /Issuer|Certificate/.test(n)), ['Certificate registry/registry-tls', 'Certificate registry/registry-ui-tls'])
  assert.equal((acme.ui!.certificate['spec'] as any).issuerRef, { group: 'cert-manager.io', kind: 'Issuer', name: 'letsencrypt' })
  assert.equal((acme.ui!.certificate['spec'] as any).dnsNames, ['registry-ui.homelab.local'])
})

const monitorCases: [string, Record<string, unknown>, boolean, boolean][] = [
  ['defaults: ServiceMonitor and Prometheus on', {}, true, true],
  ['serviceMonitor false: no ServiceMonitor, metrics still served', { serviceMonitor: false }, false, true],
  ['metrics off: neither', { enabled: false }, false, false],
]
for (const [name, metrics, monitor, prometheus] of monitorCases) {
  Render(`ServiceMonitor toggle — ${name}`, () => {
    const r = renderRegistryObjects(testConfig({ registry: { metrics } }))
    assert.is(r.serviceMonitor !== undefined, monitor)
    assert.is(parse(configYml(r)).http.debug.prometheus.enabled, prometheus)
  })
}

Render('ServiceMonitor carries the configured labels and selects only the registry Service', () => {
  const r = renderRegistryObjects(testConfig({ registry: { metrics: { serviceMonitorLabels: { release: 'kube-prometheus-stack' } } } }))
  assert.is(r.serviceMonitor!.metadata.labels!['release'], 'kube-prometheus-stack')
  assert.equal((r.serviceMonitor!['spec'] as any).selector, { matchLabels: { 'app.kubernetes.io/name': 'registry' } })
  assert.is(r.ui!.service.metadata.labels!['app.kubernetes.io/name'], 'registry-ui')
})

Render('IngressRoutes: registry host to :5000; UI host sends /v2 to the registry and the rest to the UI', () => {
  const r = renderRegistryObjects(testConfig({ domain: 'lab.home.arpa', ingress: { ip: '127.0.2.1', entryPoint: 'https' } }))
  assert.equal(r.route['spec'], {
    entryPoints: ['https'],
    routes: [{ kind: 'Rule', match: 'Host(`registry.lab.home.arpa`)', services: [{ name: 'registry', port: 5000 }] }],
    tls: { secretName: 'registry-tls' },
  })
  const ui = r.ui!.route['spec'] as any
  assert.equal(ui.routes.map((x: any) => [x.match, x.services[0].name, x.services[0].port]), [
    ['Host(`registry-ui.lab.home.arpa`) && PathPrefix(`/v2`)', 'registry', 5000],
    ['Host(`registry-ui.lab.home.arpa`)', 'registry-ui', 80],
  ])
  assert.equal(r.route.apiVersion, 'traefik.io/v1alpha1')
})

Render('the UI is pinned, same-origin, and follows registry.ui', () => {
  const r = renderRegistryObjects(testConfig({ registry: { namespace: 'reg', ui: { title: 'Lab', deleteImages: true, singleRegistry: false } } }))
  const env = Object.fromEntries((container(r.ui!.deployment).env ?? []).map((e) => [e.name, e.value]))
  assert.equal([env['REGISTRY_TITLE'], env['DELETE_IMAGES'], env['SINGLE_REGISTRY'], env['REGISTRY_SECURED'], env['SHOW_CONTENT_DIGEST']], ['Lab', 'true', 'false', 'true', 'true'])
  assert.is(env['NGINX_PROXY_PASS_URL'], 'http://registry.reg.svc.cluster.local:5000')
  assert.is(env['REGISTRY_URL'], undefined)
  assert.is(container(r.ui!.deployment).image, 'joxit/docker-registry-ui:2.6.0')
  assert.is(renderRegistryObjects(testConfig({ registry: { ui: { enabled: false } } })).ui, undefined)
})

Render('KEP-1755 ConfigMap names the push host and the in-cluster address', () => {
  const r = renderRegistryObjects(testConfig())
  assert.is(r.localRegistryHosting.metadata.namespace, 'kube-public')
  assert.equal(parse((r.localRegistryHosting['data'] as Record<string, string>)['localRegistryHosting.v1']!), {
    host: 'registry.homelab.local', hostFromContainerRuntime: 'registry.homelab.local', hostFromClusterNetwork: 'registry.registry.svc.cluster.local:5000',
  })
})

Render('every object passes its kubernetes-models schema and carries the common labels', () => {
  for (const o of listRegistryObjects(renderRegistryObjects(testConfig()))) {
    validateObject(o)
    assert.is(o.metadata.labels!['app.kubernetes.io/part-of'], 'homelab-devtools', `${o.kind} ${o.metadata.name}`)
    assert.ok(o.metadata.labels!['app.kubernetes.io/name'], `${o.kind} ${o.metadata.name}`)
  }
})

Render('rendering is deterministic: same config, same bytes, sorted keys', () => {
  const a = JSON.stringify(listRegistryObjects(renderRegistryObjects(testConfig())))
  const b = JSON.stringify(listRegistryObjects(renderRegistryObjects(testConfig())))
  assert.is(a, b)
  const deployment = renderRegistryObjects(testConfig()).deployment
  assert.equal(Object.keys(deployment), [...Object.keys(deployment)].sort())
})

Render('only a config.yml change moves the pod-template checksum', () => {
  const base = checksum(renderRegistryObjects(testConfig()))
  assert.match(base, /^[0-9a-f]{64}$/)
  assert.is(checksum(renderRegistryObjects(testConfig({ registry: { users: [{ name: 'admin' }, { name: 'ci' }], resources: { limits: { memory: '1Gi' } } } }))), base)
  assert.is.not(checksum(renderRegistryObjects(testConfig({ registry: { auth: { realm: 'Other' } } }))), base)
})

Render('a schema failure names the object and the field before anything is sent', () => {
  const bad: KubeObject = { apiVersion: 'apps/v1', kind: 'Deployment', metadata: { name: 'registry', namespace: 'registry' }, spec: { selector: {}, template: { spec: { containers: [{ name: 'r', image: 'x', ports: [{ containerPort: 'five' }] }] } } } }
  try {
    validateObject(bad)
    assert.unreachable('should fail validation')
  } catch (e) {
    assert.instance(e, ManifestError)
    assert.match((e as Error).message, /Deployment registry\/registry/)
    assert.match((e as Error).message, /spec\.template\.spec\.containers\[0\]\.ports\[0\]\.containerPort/)
    assert.is((e as ManifestError).field, 'spec.template.spec.containers[0].ports[0].containerPort')
  }
})

Render('the config refuses, for either auth Secret, every Secret name the registry keeps for itself (core restates them)', () => {
  const objects = renderRegistryObjects(testConfig())
  const secretOf = (certificate: KubeObject) => String((certificate['spec'] as { secretName: string }).secretName)
  const kept = [REGISTRY_NAMES.httpSecret, secretOf(objects.certificate), secretOf(objects.ui!.certificate)]
  assert.is(new Set(kept).size, 3)
  for (const name of kept) {
    for (const key of ['secretName', 'credentialsSecretName']) {
      assert.throws(() => testConfig({ registry: { auth: { [key]: name } } }), (error: Error) => error.message.includes(`registry.auth.${key}`) && error.message.includes(name), `${key}: ${name}`)
    }
  }
})

Render('a Job on the registry\'s volume runs beside the registry\'s pod (ReadWriteOnce); one without it goes anywhere', () => {
  const config = testConfig()
  const objects = renderRegistryObjects(config)
  const podSpec = (job: KubeObject) => (job['spec'] as { template: { spec: Record<string, unknown> } }).template.spec
  const gc = renderRegistryJob(config.registry, { name: 'registry-gc-x', component: 'garbage-collect', script: 'true', mountStorage: true })
  validateObject(gc)
  const selector = (objects.deployment['spec'] as { selector: { matchLabels: Record<string, string> } }).selector.matchLabels
  assert.equal(podSpec(gc)['affinity'], { podAffinity: { requiredDuringSchedulingIgnoredDuringExecution: [{ labelSelector: { matchLabels: selector }, namespaces: [config.registry.namespace], topologyKey: 'kubernetes.io/hostname' }] } })
  const labels = ((gc['spec'] as { template: { metadata: { labels: Record<string, string> } } }).template.metadata.labels)
  assert.not.ok(Object.entries(selector).every(([k, v]) => labels[k] === v), 'the Job\'s own pod does not match it')
  const metrics = renderRegistryJob(config.registry, { name: 'registry-metrics-x', component: 'metrics-probe', script: 'true', mountStorage: false })
  assert.is(podSpec(metrics)['affinity'], undefined)
})

Render.run()
