import { spawnSync } from 'node:child_process'
import { createHash, randomBytes } from 'node:crypto'
import { mkdirSync, mkdtempSync, readdirSync, readFileSync, rmSync, writeFileSync } from 'node:fs'
import { get as httpGet } from 'node:http'
import { request } from 'node:https'
import { tmpdir } from 'node:os'
import { join } from 'node:path'
import { setTimeout as sleep } from 'node:timers/promises'
import { gzipSync } from 'node:zlib'
import { KubernetesObjectApi, PatchStrategy, type KubernetesObject } from '@kubernetes/client-node'
import { suite } from 'uvu'
import * as assert from 'uvu/assert'
import {
  DEFAULT_TRAEFIK_IP, labCaBundle, labControllerStatus, labKubeConfig, labOptionsFromEnv, labServiceAddress, runProgram, runWithLabHosts,
  useLab, writeRegistryAuthFile, type LabHandle, reportHookErrors,
} from '../src/index.js'
import { KubeRestClient } from '../src/controller/kube-rest-client.js'
import { runnerFor } from '../src/controller/image-runners.js'
import { matchRoute } from '../src/controller/traefik-routes.js'
import { parseRule } from '../src/controller/traefik-rules.js'
import { podPaths } from '../src/controller/controller-paths.js'
import { startPod } from '../src/controller/pod-process.js'
import { stopLabController } from '../src/controller/lab-controller-process.js'

const options = labOptionsFromEnv(process.env)
const traefikIp = options.traefikIp ?? DEFAULT_TRAEFIK_IP
// Unique names: the lab is shared with other test files (the registry package's among them) running at the same time.
const suffix = `${Date.now().toString(36)}${randomBytes(2).toString('hex')}`
const ns = `lab-ctl-${suffix}`
const host = `registry-${suffix}.homelab.local`
const uiHost = `registry-ui-${suffix}.homelab.local`
const names = { selfSigned: `${ns}-selfsigned`, ca: `${ns}-ca`, root: `${ns}-root-ca` }
const user = 'admin'

type Ctx = { lab: LabHandle; apply: (o: object) => Promise<void>; client: KubeRestClient; dir: string; caPem: string; passwords: string[] }
const Controller = suite<Ctx>('lab controller', {} as Ctx)

async function waitFor<T>(what: string, probe: () => Promise<T | undefined | false>, timeoutMs = 30_000): Promise<T> {
  const deadline = Date.now() + timeoutMs
  for (;;) {
    const value = await probe()
    if (value !== undefined && value !== false) return value
    if (Date.now() > deadline) throw new Error(`timed out after ${timeoutMs / 1000}s waiting for ${what}`)
    await sleep(200)
  }
}

function htpasswdLine(password: string): string {
  const result = spawnSync('htpasswd', ['-iBn', user], { input: password, encoding: 'utf8' })
  assert.is(result.status, 0, result.stderr)
  return `${result.stdout.trim()}\n`
}

const registryConfig = `version: 0.1
log:
  level: info
storage:
  filesystem:
    rootdirectory: /var/lib/registry
  delete:
    enabled: true
http:
  addr: :5000
  debug:
    addr: :5001
    prometheus:
      enabled: true
      path: /metrics
auth:
  htpasswd:
    realm: Registry Realm
    path: /auth/htpasswd
`

const registryVolumes = [
  { name: 'config', configMap: { name: 'registry-config' } },
  { name: 'auth', secret: { secretName: 'registry-auth' } },
  { name: 'data', persistentVolumeClaim: { claimName: 'registry-data' } },
]
const registryMounts = [
  { name: 'config', mountPath: '/etc/docker/registry' },
  { name: 'auth', mountPath: '/auth', readOnly: true },
  { name: 'data', mountPath: '/var/lib/registry' },
]

function authSecret(password: string): object {
  return { apiVersion: 'v1', kind: 'Secret', metadata: { name: 'registry-auth', namespace: ns }, type: 'Opaque', stringData: { htpasswd: htpasswdLine(password) } }
}

function registryDeployment(annotations: Record<string, string> = {}, replicas = 1): object {
  return {
    apiVersion: 'apps/v1', kind: 'Deployment', metadata: { name: 'registry', namespace: ns },
    spec: {
      replicas, selector: { matchLabels: { app: 'registry' } },
      template: {
        metadata: { labels: { app: 'registry' }, annotations },
        spec: {
          enableServiceLinks: false, volumes: registryVolumes,
          containers: [{
            name: 'registry', image: 'registry:2.8.3', volumeMounts: registryMounts,
            ports: [{ name: 'http', containerPort: 5000, protocol: 'TCP' }, { name: 'metrics', containerPort: 5001, protocol: 'TCP' }],
            env: [{ name: 'REGISTRY_HTTP_SECRET', valueFrom: { secretKeyRef: { name: 'registry-http-secret', key: 'secret' } } }],
            readinessProbe: { httpGet: { path: '/', port: 5000 } },
          }],
        },
      },
    },
  }
}

/** Joxit's UI on its own host; `/v2` on that host goes straight to the registry, the rest to the UI (which proxies /v2 too). */
function registryUiObjects(issuerRef: object): object[] {
  const labels = { app: 'registry-ui' }
  const env = [
    { name: 'REGISTRY_TITLE', value: `Lab registry ${suffix}` },
    { name: 'NGINX_PROXY_PASS_URL', value: `http://registry.${ns}.svc.cluster.local:5000` },
    { name: 'SINGLE_REGISTRY', value: 'true' }, { name: 'DELETE_IMAGES', value: 'true' },
  ]
  return [
    { apiVersion: 'cert-manager.io/v1', kind: 'Certificate', metadata: { name: 'registry-ui-tls', namespace: ns }, spec: { secretName: 'registry-ui-tls', dnsNames: [uiHost], issuerRef } },
    { apiVersion: 'apps/v1', kind: 'Deployment', metadata: { name: 'registry-ui', namespace: ns },
      spec: { replicas: 1, selector: { matchLabels: labels }, template: { metadata: { labels }, spec: {
        containers: [{ name: 'ui', image: 'joxit/docker-registry-ui:2.6.0', env, ports: [{ name: 'http', containerPort: 80, protocol: 'TCP' }] }] } } } },
    { apiVersion: 'v1', kind: 'Service', metadata: { name: 'registry-ui', namespace: ns },
      spec: { selector: labels, ports: [{ name: 'http', port: 80, targetPort: 80, protocol: 'TCP' }] } },
    { apiVersion: 'traefik.io/v1alpha1', kind: 'IngressRoute', metadata: { name: 'registry-ui', namespace: ns },
      spec: { entryPoints: ['websecure'], tls: { secretName: 'registry-ui-tls' }, routes: [
        { kind: 'Rule', match: `Host(\`${uiHost}\`) && PathPrefix(\`/v2\`)`, services: [{ name: 'registry', port: 5000 }] },
        { kind: 'Rule', match: `Host(\`${uiHost}\`)`, services: [{ name: 'registry-ui', port: 80 }] },
      ] } },
  ]
}

function setupObjects(password: string): object[] {
  const issuerRef = (name: string) => ({ name, kind: 'ClusterIssuer', group: 'cert-manager.io' })
  return [
    { apiVersion: 'v1', kind: 'Namespace', metadata: { name: ns } },
    { apiVersion: 'cert-manager.io/v1', kind: 'ClusterIssuer', metadata: { name: names.selfSigned }, spec: { selfSigned: {} } },
    { apiVersion: 'cert-manager.io/v1', kind: 'Certificate', metadata: { name: names.root, namespace: 'cert-manager' },
      spec: { isCA: true, commonName: 'lab controller test CA', secretName: names.root, privateKey: { algorithm: 'ECDSA', size: 256 }, issuerRef: issuerRef(names.selfSigned) } },
    { apiVersion: 'cert-manager.io/v1', kind: 'ClusterIssuer', metadata: { name: names.ca }, spec: { ca: { secretName: names.root } } },
    { apiVersion: 'cert-manager.io/v1', kind: 'Certificate', metadata: { name: 'registry-tls', namespace: ns },
      spec: { secretName: 'registry-tls', dnsNames: [host], issuerRef: issuerRef(names.ca) } },
    { apiVersion: 'v1', kind: 'ConfigMap', metadata: { name: 'registry-config', namespace: ns }, data: { 'config.yml': registryConfig } },
    authSecret(password),
    { apiVersion: 'v1', kind: 'Secret', metadata: { name: 'registry-http-secret', namespace: ns }, type: 'Opaque', stringData: { secret: randomBytes(16).toString('hex') } },
    { apiVersion: 'v1', kind: 'PersistentVolumeClaim', metadata: { name: 'registry-data', namespace: ns },
      spec: { accessModes: ['ReadWriteOnce'], storageClassName: 'local-path', resources: { requests: { storage: '1Gi' } } } },
    registryDeployment(),
    { apiVersion: 'v1', kind: 'Service', metadata: { name: 'registry', namespace: ns },
      spec: { selector: { app: 'registry' }, ports: [{ name: 'http', port: 5000, targetPort: 'http', protocol: 'TCP' }, { name: 'metrics', port: 5001, targetPort: 'metrics', protocol: 'TCP' }] } },
    ...registryUiObjects(issuerRef(names.ca)),
    { apiVersion: 'traefik.io/v1alpha1', kind: 'IngressRoute', metadata: { name: 'registry', namespace: ns },
      spec: { entryPoints: ['websecure'], routes: [{ kind: 'Rule', match: `Host(\`${host}\`)`, services: [{ name: 'registry', port: 5000 }] }], tls: { secretName: 'registry-tls' } } },
  ]
}

Controller.before(reportHookErrors(async (context) => {
  context.lab = await useLab(options)
  const objects = KubernetesObjectApi.makeApiClient(labKubeConfig(context.lab))
  context.apply = async (o) => void (await objects.patch(o as KubernetesObject, undefined, undefined, 'lab-controller-test', true, PatchStrategy.ServerSideApply))
  context.client = KubeRestClient.forLab(context.lab.stateDir)
  context.dir = mkdtempSync(join(tmpdir(), 'lab-controller-test-'))
  context.passwords = [randomBytes(12).toString('hex'), randomBytes(12).toString('hex')]
  for (const o of setupObjects(context.passwords[0] ?? '')) await context.apply(o)
}))

Controller.after(async (context) => {
  const client = context.client
  if (!client) return
  await client.delete(`/api/v1/namespaces/${ns}`)
  for (const issuer of [names.selfSigned, names.ca]) await client.delete(`/apis/cert-manager.io/v1/clusterissuers/${issuer}`)
  await client.delete(`/apis/cert-manager.io/v1/namespaces/cert-manager/certificates/${names.root}`)
  await client.delete(`/api/v1/namespaces/cert-manager/secrets/${names.root}`)
  client.close()
  rmSync(context.dir, { recursive: true, force: true })
})

type Conditioned = { status?: { conditions?: { type: string; status: string }[] } }
const isTrue = (o: Conditioned | undefined, type: string) => o?.status?.conditions?.some((c) => c.type === type && c.status === 'True') === true
const secretData = async (client: KubeRestClient, namespace: string, name: string) =>
  (await client.get<{ type: string; data?: Record<string, string>; metadata: { resourceVersion: string } }>(`/api/v1/namespaces/${namespace}/secrets/${name}`))

function tlsRequest(path: string, caPem: string, options: { auth?: string; to?: string } = {}): Promise<{ status: number; body: string; server?: string }> {
  const name = options.to ?? host
  return new Promise((resolve, reject) => {
    const headers: Record<string, string> = { host: name }
    if (options.auth) headers.authorization = `Basic ${Buffer.from(options.auth).toString('base64')}`
    request({ host: traefikIp, port: 443, servername: name, path, ca: caPem, headers }, (res) => {
      let body = ''
      res.on('data', (c: Buffer) => (body += c.toString()))
      res.on('end', () => resolve({ status: res.statusCode ?? 0, body }))
    }).on('error', reject).end()
  })
}

const tlsGet = async (path: string, caPem: string, auth?: string) => (await tlsRequest(path, caPem, { auth })).status

const registryPod = (lab: LabHandle) => labControllerStatus(lab.stateDir).pods.find((p) => p.kind === 'deployment' && p.namespace === ns && p.name === 'registry')

Controller('the CA and the leaf Certificate become Ready; the leaf verifies against the CA with openssl', async (context) => {
  const { client } = context
  const leafPath = `/apis/cert-manager.io/v1/namespaces/${ns}/certificates/registry-tls`
  const leaf = await waitFor('Certificate registry-tls Ready', async () => {
    const c = await client.get<Conditioned & { status?: { notAfter?: string } }>(leafPath)
    return isTrue(c, 'Ready') ? c : undefined
  })
  assert.ok(leaf.status?.notAfter, 'status.notAfter is set')
  const root = await secretData(client, 'cert-manager', names.root)
  const secret = await secretData(client, ns, 'registry-tls')
  assert.is(secret?.type, 'kubernetes.io/tls')
  const decode = (s: typeof secret, key: string) => Buffer.from(s?.data?.[key] ?? '', 'base64').toString('utf8')
  context.caPem = decode(root, 'tls.crt')
  assert.is(decode(secret, 'ca.crt'), context.caPem)
  writeFileSync(join(context.dir, 'ca.crt'), context.caPem)
  writeFileSync(join(context.dir, 'leaf.crt'), decode(secret, 'tls.crt'))
  const verify = await runProgram(['openssl', 'verify', '-CAfile', join(context.dir, 'ca.crt'), join(context.dir, 'leaf.crt')])
  assert.match(verify.stdout, /leaf\.crt: OK/)
  assert.ok(labCaBundle(context.lab.stateDir).includes(context.caPem.trim()), 'labCaBundle has the issued root')
  const rv = secret?.metadata.resourceVersion
  await sleep(1500)
  assert.is((await secretData(client, ns, 'registry-tls'))?.metadata.resourceVersion, rv, 'later passes never reissue an up-to-date Secret')
})

type DeploymentState = { metadata: { generation: number }; status?: { observedGeneration?: number; readyReplicas?: number; availableReplicas?: number } }
const deploymentPath = `/apis/apps/v1/namespaces/${ns}/deployments/registry`
const rolledOut = (d: DeploymentState | undefined) => d !== undefined && d.status?.observedGeneration === d.metadata.generation && d.status.readyReplicas === 1

Controller('the registry answers through the Traefik double over TLS trusting only the CA: /v2/ 401 without, 200 with credentials', async ({ client, caPem, passwords }) => {
  await waitFor('Deployment registry ready', async () => rolledOut(await client.get<DeploymentState>(deploymentPath)))
  assert.is(await waitFor('a 401 from /v2/', async () => (await tlsGet('/v2/', caPem).catch(() => 0)) === 401 ? 401 : undefined), 401)
  assert.is(await tlsGet('/v2/', caPem, `${user}:${passwords[0]}`), 200)
  assert.is(await tlsGet('/v2/', caPem, `${user}:wrong`), 401)
  const pvc = await client.get<{ status?: { phase?: string } }>(`/api/v1/namespaces/${ns}/persistentvolumeclaims/registry-data`)
  assert.is(pvc?.status?.phase, 'Bound')
})

Controller('the UI host serves the UI double, and /v2 reaches the registry both by the PathPrefix route and through the UI proxy', async ({ lab, caPem }) => {
  const page = await waitFor('the UI page', async () => {
    const answer = await tlsRequest('/', caPem, { to: uiHost }).catch(() => undefined)
    return answer?.status === 200 ? answer : undefined
  })
  assert.match(page.body, `Lab registry ${suffix}`)
  assert.is((await tlsRequest('/v2/', caPem, { to: uiHost })).status, 401, 'Host && PathPrefix(/v2) wins over Host: the registry answers')
  assert.is((await tlsRequest('/nothing-here', caPem, { to: uiHost })).status, 404, 'the UI double answers other paths')
  // Straight to the UI pod: its nginx-style /v2 proxy resolves registry.<ns>.svc.cluster.local through the pod's /etc/hosts.
  const ui = labServiceAddress(lab.stateDir, ns, 'registry-ui', 80)
  const proxied = await new Promise<number>((resolve, reject) => {
    httpGet({ host: ui.host, port: ui.port, path: '/v2/', headers: { host: uiHost } }, (res) => resolve(res.resume().statusCode ?? 0)).on('error', reject)
  })
  assert.is(proxied, 401)
  assert.is((await tlsRequest('/v2/', caPem, { to: `unknown-${suffix}.homelab.local` }).catch((e: Error) => ({ status: -1, body: e.message }))).status, -1, 'an unknown SNI gets the default certificate, which the CA does not sign')
})

Controller('the debug port answers on the Service address the lab reports, with registry_ metrics', async ({ lab }) => {
  const { host: podIp, port } = labServiceAddress(lab.stateDir, ns, 'registry', 'metrics')
  assert.match(podIp, /^127\.0\.3\.\d+$/)
  const body = await new Promise<string>((resolve, reject) => {
    httpGet({ host: podIp, port, path: '/metrics' }, (res) => {
      let text = ''
      res.on('data', (c: Buffer) => (text += c.toString()))
      res.on('end', () => resolve(text))
    }).on('error', reject)
  })
  assert.match(body, /registry_/)
})

function sha256(data: Buffer | string): string {
  return createHash('sha256').update(data).digest('hex')
}

/** An OCI image layout made by hand: one gzip layer holding one file, a config, a manifest, index.json. */
function ociLayout(dir: string): string {
  const layout = join(dir, 'layout')
  const blobs = join(layout, 'blobs', 'sha256')
  mkdirSync(blobs, { recursive: true })
  mkdirSync(join(dir, 'rootfs'), { recursive: true })
  writeFileSync(join(dir, 'rootfs', 'hello.txt'), `hello from the lab ${suffix}\n`)
  const tar = spawnSync('tar', ['-C', join(dir, 'rootfs'), '-cf', '-', 'hello.txt'])
  assert.is(tar.status, 0)
  const layer = gzipSync(tar.stdout)
  const blob = (data: Buffer | string) => (writeFileSync(join(blobs, sha256(data)), data), { digest: `sha256:${sha256(data)}`, size: Buffer.byteLength(data) })
  const config = JSON.stringify({ architecture: 'amd64', os: 'linux', rootfs: { type: 'layers', diff_ids: [`sha256:${sha256(tar.stdout)}`] }, config: {} })
  const manifest = JSON.stringify({
    schemaVersion: 2, mediaType: 'application/vnd.oci.image.manifest.v1+json',
    config: { mediaType: 'application/vnd.oci.image.config.v1+json', ...blob(config) },
    layers: [{ mediaType: 'application/vnd.oci.image.layer.v1.tar+gzip', ...blob(layer) }],
  })
  const index = { schemaVersion: 2, manifests: [{ mediaType: 'application/vnd.oci.image.manifest.v1+json', ...blob(manifest), annotations: { 'org.opencontainers.image.ref.name': 'hello' } }] }
  writeFileSync(join(layout, 'index.json'), JSON.stringify(index))
  writeFileSync(join(layout, 'oci-layout'), JSON.stringify({ imageLayoutVersion: '1.0.0' }))
  return layout
}

Controller('a real skopeo copy pushes an OCI layout through the lab and skopeo inspect reads it back', async ({ dir, passwords }) => {
  const layout = ociLayout(dir)
  const authFile = writeRegistryAuthFile(join(dir, 'auth.json'), host, user, passwords[0] ?? '')
  const certDir = dir // holds ca.crt, which skopeo trusts as a CA root for this registry
  const hosts = { [host]: traefikIp }
  await runWithLabHosts(['skopeo', 'copy', '--authfile', authFile, '--dest-cert-dir', certDir, `oci:${layout}:hello`, `docker://${host}/test/hello:1`], { hosts })
  const inspect = await runWithLabHosts(['skopeo', 'inspect', '--authfile', authFile, '--cert-dir', certDir, `docker://${host}/test/hello:1`], { hosts })
  const info = JSON.parse(inspect.stdout) as { Name: string; Digest: string; Layers: string[] }
  assert.is(info.Name, `${host}/test/hello`)
  assert.match(info.Digest, /^sha256:[a-f0-9]{64}$/)
  assert.is(info.Layers.length, 1)
})

Controller('a new htpasswd Secret takes effect without a restart: new password 200, old 401, same pid', async ({ lab, apply, caPem, passwords }) => {
  const before = registryPod(lab)
  assert.ok(before?.alive, 'the registry runs')
  await apply(authSecret(passwords[1] ?? ''))
  await waitFor('the new password to work', async () => (await tlsGet('/v2/', caPem, `${user}:${passwords[1]}`)) === 200)
  assert.is(await tlsGet('/v2/', caPem, `${user}:${passwords[0]}`), 401)
  assert.is(registryPod(lab)?.pid, before?.pid)
})

Controller('a changed template annotation restarts the registry (new pid) and the Deployment reports ready again', async ({ lab, apply, client, caPem, passwords }) => {
  const before = registryPod(lab)?.pid
  await apply(registryDeployment({ 'kubectl.kubernetes.io/restartedAt': new Date().toISOString() }))
  const after = await waitFor('a new registry pid', async () => {
    const pod = registryPod(lab)
    return pod?.alive && pod.pid !== before ? pod.pid : undefined
  })
  assert.is.not(after, before)
  await waitFor('the Deployment rolled out', async () => rolledOut(await client.get<DeploymentState>(deploymentPath)))
  assert.is(await tlsGet('/v2/', caPem, `${user}:${passwords[1]}`), 200)
})

type PodState = { status?: { phase?: string; containerStatuses?: { state?: { terminated?: { exitCode: number; reason: string; message?: string } } }[] } }

Controller('a garbage-collect --dry-run Job on the registry volume completes with its output in the Pod terminated message', async ({ apply, client }) => {
  const script = 'registry garbage-collect --dry-run /etc/docker/registry/config.yml > /tmp/out 2>&1; rc=$?; tail -c 4000 /tmp/out > /dev/termination-log; exit $rc'
  await apply({
    apiVersion: 'batch/v1', kind: 'Job', metadata: { name: 'registry-gc', namespace: ns },
    spec: { backoffLimit: 0, template: { spec: {
      restartPolicy: 'Never', enableServiceLinks: false, volumes: registryVolumes,
      containers: [{ name: 'gc', image: 'registry:2.8.3', command: ['sh', '-c', script], volumeMounts: registryMounts,
        env: [{ name: 'REGISTRY_HTTP_SECRET', valueFrom: { secretKeyRef: { name: 'registry-http-secret', key: 'secret' } } }] }],
    } } },
  })
  const job = await waitFor('Job registry-gc finished', async () => {
    const j = await client.get<Conditioned & { status?: { succeeded?: number } }>(`/apis/batch/v1/namespaces/${ns}/jobs/registry-gc`)
    return isTrue(j, 'Complete') || isTrue(j, 'Failed') ? j : undefined
  })
  assert.ok(isTrue(job, 'Complete'), JSON.stringify(job.status))
  assert.is(job.status?.succeeded, 1)
  const pods = await client.list<PodState & { metadata: { name: string; labels: Record<string, string> } }>(`/api/v1/namespaces/${ns}/pods`, { labelSelector: 'job-name=registry-gc' })
  assert.is(pods.length, 1)
  assert.match(pods[0]?.metadata.name ?? '', /^registry-gc-[a-z0-9]{5}$/)
  assert.ok(pods[0]?.metadata.labels['controller-uid'])
  const terminated = pods[0]?.status?.containerStatuses?.[0]?.state?.terminated
  assert.is(pods[0]?.status?.phase, 'Succeeded')
  assert.is(terminated?.exitCode, 0)
  assert.is(terminated?.reason, 'Completed')
  assert.match(terminated?.message ?? '', /test\/hello/) // it marked the repository pushed above: GC ran on the registry's own storage
  assert.match(terminated?.message ?? '', /blobs marked/)
})

Controller('an image the lab cannot run is logged and left alone, and the controller goes on', async ({ lab, apply, client }) => {
  await apply({
    apiVersion: 'apps/v1', kind: 'Deployment', metadata: { name: 'not-runnable', namespace: ns },
    spec: { selector: { matchLabels: { app: 'x' } }, template: { metadata: { labels: { app: 'x' } }, spec: { containers: [{ name: 'x', image: 'nginx:1.27' }] } } },
  })
  const logFile = join(lab.stateDir, 'lab-controller.log')
  await waitFor('the controller to log it', async () => readFileSync(logFile, 'utf8').includes(`Deployment ${ns}/not-runnable: not run: image nginx:1.27`))
  const d = await client.get<DeploymentState>(`/apis/apps/v1/namespaces/${ns}/deployments/not-runnable`)
  assert.is(d?.status?.observedGeneration, undefined, 'no status is set for it')
  assert.ok(labControllerStatus(lab.stateDir).controller.alive)
})

Controller('replicas 0 stops the registry process', async ({ lab, apply }) => {
  const pid = registryPod(lab)?.pid
  assert.ok(pid)
  await apply(registryDeployment({}, 0))
  await waitFor('the registry to stop', async () => registryPod(lab)?.alive === false)
  assert.is(running(pid ?? 0), false)
})

Controller.run()

/** Whether `pid` runs (a zombie waiting for its parent to reap it does not). */
function running(pid: number): boolean {
  try {
    const stat = readFileSync(`/proc/${pid}/stat`, 'utf8')
    return !stat.slice(stat.lastIndexOf(')') + 2).startsWith('Z')
  } catch (error) {
    if ((error as NodeJS.ErrnoException).code === 'ENOENT') return false
    throw error
  }
}

const Down = suite('stopping the lab controller and its pods')

/** Live (non-zombie) processes started with this pod's marker in their environment. */
function processesOfPod(podDir: string): number[] {
  const found: number[] = []
  for (const entry of readdirSync('/proc').filter((e) => /^\d+$/.test(e))) {
    try {
      const stat = readFileSync(`/proc/${entry}/stat`, 'utf8')
      if (stat.slice(stat.lastIndexOf(')') + 2).startsWith('Z')) continue
      if (readFileSync(`/proc/${entry}/environ`, 'utf8').split('\0').includes(`HOMELAB_LAB_POD=${podDir}`)) found.push(Number(entry))
    } catch (error) {
      // Exited while we looked, or not ours to read (pid 1 in some sandboxes).
      if (!['ENOENT', 'ESRCH', 'EACCES'].includes((error as NodeJS.ErrnoException).code ?? '')) throw error
    }
  }
  return found
}

Down('stopLabController ends every process of a pod it started (shell and children), and never a pid that is not the pod', async () => {
  const stateDir = mkdtempSync(join(tmpdir(), 'lab-down-'))
  try {
    const paths = podPaths(stateDir, 'job', 'ns', 'sleeper')
    mkdirSync(paths.dir, { recursive: true })
    writeFileSync(paths.hosts, '127.0.0.1\tlocalhost\n')
    startPod({ paths, mounts: [], argv: ['sh', '-c', 'sleep 300 & sleep 300; wait'], env: {}, recordExitCode: true })
    await waitFor('the pod and its children', async () => processesOfPod(paths.dir).length >= 3)
    const stranger = podPaths(stateDir, 'deployment', 'ns', 'stranger')
    mkdirSync(stranger.dir, { recursive: true })
    writeFileSync(stranger.pidFile, `${process.pid}\n`) // a pid that is not that pod's: must survive
    assert.equal(await stopLabController(stateDir), ['pod ns/sleeper'])
    assert.equal(processesOfPod(paths.dir), [])
  } finally {
    rmSync(stateDir, { recursive: true, force: true })
  }
})

Down.run()

const Rules = suite('Traefik rules')

const table = (rules: string[]) => ({
  routes: rules.map((rule) => ({ name: rule, rule, priority: rule.length, tree: parseRule(rule), backend: undefined, namespace: 'ns', createdAt: '' }))
    .sort((a, b) => b.priority - a.priority),
})
const ui = 'Host(`ui.lab`)'
const uiV2 = 'Host(`ui.lab`) && PathPrefix(`/v2`)'
const either = 'Host(`a.lab`) || Host(`b.lab`)'
const routeCases: [string, string[], { host: string; path: string }, string | undefined][] = [
  ['the longer rule wins: /v2 on the UI host goes to the PathPrefix route', [ui, uiV2], { host: 'ui.lab', path: '/v2/_catalog' }, uiV2],
  ['the rest of the UI host goes to the Host route', [uiV2, ui], { host: 'ui.lab', path: '/' }, ui],
  ['hosts match case-insensitively and without the port', [ui], { host: 'UI.lab:443', path: '/' }, ui],
  ['|| matches either host', [either], { host: 'b.lab', path: '/x' }, either],
  ['no rule for the host: Traefik 404', [ui, either], { host: 'c.lab', path: '/' }, undefined],
]
for (const [name, rules, request, expected] of routeCases) {
  Rules(name, () => assert.is(matchRoute(table(rules), { ...request, method: 'GET' })?.rule, expected))
}

Rules('a matcher the lab does not play is refused with the rule in the message', () => {
  assert.throws(() => parseRule('HostRegexp(`{x:.+}`)'), /HostRegexp.*not one the lab plays/)
})

Rules.run()

const Runners = suite('the image table')

const localstackVersion = (image: string) =>
  runnerFor(image)?.command({ container: { name: 'localstack', image }, env: {}, hostPathOf: () => undefined }).env['LAB_LOCALSTACK_VERSION']
for (const [image, version] of <[string, string][]>[['localstack/localstack:4.14.0', '4.14.0'], ['localstack/localstack:2026.07.0', '2026.7.0'], ['localstack/localstack:2026.11.1@sha256:' + 'a'.repeat(64), '2026.11.1']]) {
  Runners(`LocalStack ${image.split(':')[1]!.slice(0, 9)} reports ${version}, its Python package's version (PEP 440), as a real one does`, () => assert.is(localstackVersion(image), version))
}

Runners.run()
