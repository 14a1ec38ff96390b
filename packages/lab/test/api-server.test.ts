import { readFileSync, statSync } from 'node:fs'
import { request } from 'node:https'
import { CoreV1Api } from '@kubernetes/client-node'
import { suite } from 'uvu'
import * as assert from 'uvu/assert'
import {
  downlevelCrd, ensureDebianPackages, ensureKubeApiserver, LAB_DEBIAN_PACKAGES, labKubeConfig, labPaths, labStatus, labUp, listCrds,
  labOptionsFromEnv, runProgram, useLab, type LabHandle, type RunProgram, reportHookErrors,
} from '../src/index.js'

// The runner's `lab up` honours these variables; so must the tests.
const options = labOptionsFromEnv(process.env)

const ApiServer = suite<{ lab: LabHandle }>('lab API server', { lab: undefined as unknown as LabHandle })

ApiServer.before(reportHookErrors(async (context) => {
  context.lab = await useLab(options)
}))

function get(lab: LabHandle, path: string): Promise<{ status: number; body: string }> {
  return new Promise((resolve, reject) => {
    const headers = { authorization: `Bearer ${lab.token.reveal()}` }
    const req = request(`${lab.server}${path}`, { ca: readFileSync(lab.caFile), headers }, (res) => {
      let body = ''
      res.on('data', (chunk: Buffer) => (body += chunk.toString()))
      res.on('end', () => resolve({ status: res.statusCode ?? 0, body }))
    })
    req.on('error', reject)
    req.end()
  })
}

ApiServer('useLab() gives a server that answers /readyz ok over TLS trusted by the lab CA', async ({ lab }) => {
  assert.is(lab.server, 'https://127.0.0.1:16443')
  assert.equal(await get(lab, '/readyz'), { status: 200, body: 'ok' })
})

ApiServer('a request without the token is refused', async ({ lab }) => {
  const res = await new Promise<number>((resolve, reject) => {
    request(`${lab.server}/api/v1/namespaces`, { ca: readFileSync(lab.caFile) }, (r) => resolve(r.resume().statusCode ?? 0)).on('error', reject).end()
  })
  assert.ok(res === 401 || res === 403, `status ${res}`)
})

ApiServer('the kubeconfig is 0600 and works with @kubernetes/client-node', async ({ lab }) => {
  assert.is(statSync(lab.kubeconfigPath).mode & 0o777, 0o600)
  const namespace = await labKubeConfig(lab).makeApiClient(CoreV1Api).readNamespace({ name: 'kube-system' })
  assert.is(namespace.metadata?.name, 'kube-system')
})

ApiServer('the CRDs the tool applies are Established', async ({ lab }) => {
  const crds = new Map((await listCrds(labKubeConfig(lab))).map((crd) => [crd.name, crd.established]))
  for (const name of ['ingressroutes.traefik.io', 'certificates.cert-manager.io', 'clusterissuers.cert-manager.io',
    'servicemonitors.monitoring.coreos.com', 'probes.monitoring.coreos.com']) {
    assert.is(crds.get(name), true, name)
  }
})

ApiServer('stored CRDs keep the schema keywords the 1.20 server supports (enum, int-or-string)', async ({ lab }) => {
  type Schema = { enum?: string[]; 'x-kubernetes-int-or-string'?: boolean; properties?: Record<string, Schema>; items?: Schema }
  const specOf = async (name: string) => {
    const res = await get(lab, `/apis/apiextensions.k8s.io/v1/customresourcedefinitions/${name}`)
    const crd = JSON.parse(res.body) as { spec: { versions: { schema: { openAPIV3Schema: Schema } }[] } }
    return crd.spec.versions[0]?.schema.openAPIV3Schema.properties?.spec
  }
  assert.equal((await specOf('ingressroutes.traefik.io'))?.properties?.routes?.items?.properties?.kind?.enum, ['Rule'])
  const factor = (await specOf('podmonitors.monitoring.coreos.com'))?.properties?.nativeHistogramMinBucketFactor
  assert.is(factor?.['x-kubernetes-int-or-string'], true)
})

ApiServer('the traefik Service is a LoadBalancer on 80/443 TCP with its LB IP set', async ({ lab }) => {
  const service = await labKubeConfig(lab).makeApiClient(CoreV1Api).readNamespacedService({ name: 'traefik', namespace: 'kube-system' })
  assert.is(service.spec?.type, 'LoadBalancer')
  assert.equal(service.spec?.ports?.map((p) => [p.port, p.protocol]), [[80, 'TCP'], [443, 'TCP']])
  assert.is(service.status?.loadBalancer?.ingress?.[0]?.ip, '127.0.2.1')
})

ApiServer('the local-path StorageClass exists', async ({ lab }) => {
  const res = await get(lab, '/apis/storage.k8s.io/v1/storageclasses/local-path')
  assert.is(res.status, 200)
  assert.is((JSON.parse(res.body) as { provisioner: string }).provisioner, 'rancher.io/local-path')
})

ApiServer('a second labUp() starts nothing, keeps the pids and moves no resourceVersion', async ({ lab }) => {
  const core = labKubeConfig(lab).makeApiClient(CoreV1Api)
  const rv = async () => (await core.readNamespacedService({ name: 'traefik', namespace: 'kube-system' })).metadata?.resourceVersion
  const pids = async () => (await labStatus(options)).processes.map((p) => p.pid)
  const [pidsBefore, rvBefore] = [await pids(), await rv()]
  const again = await labUp(options)
  assert.equal(again.started, [])
  assert.is(again.builtKubeApiserver, false)
  assert.equal(again.installedPackages, [])
  assert.equal(await pids(), pidsBefore)
  assert.is(await rv(), rvBefore)
})

ApiServer('the admin token is on no lab process command line', async ({ lab }) => {
  for (const { pid } of (await labStatus(options)).processes) {
    assert.not.match(readFileSync(`/proc/${pid}/cmdline`, 'utf8'), lab.token.reveal())
  }
})

ApiServer.run()

const Downlevel = suite('downlevelCrd')

const cases: [string, unknown, unknown][] = [
  ['drops x-kubernetes-validations at any depth', { a: { 'x-kubernetes-validations': [{ rule: 'x' }], type: 'object' } }, { a: { type: 'object' } }],
  ['drops selectableFields', { spec: { selectableFields: [{ jsonPath: '.a' }], group: 'g' } }, { spec: { group: 'g' } }],
  ['drops map list type and its keys, keeps other list types',
    { a: { 'x-kubernetes-list-type': 'map', 'x-kubernetes-list-map-keys': ['name'] }, b: { 'x-kubernetes-list-type': 'atomic' } },
    { a: {}, b: { 'x-kubernetes-list-type': 'atomic' } }],
  ['drops only empty-string defaults', { a: { default: '' }, b: { default: 'x' }, c: { default: 0 } }, { a: {}, b: { default: 'x' }, c: { default: 0 } }],
  ['keeps a property named default whose value is a schema', { properties: { default: { type: 'string' } } }, { properties: { default: { type: 'string' } } }],
  ['walks arrays', [{ 'x-kubernetes-validations': [] }, 1], [{}, 1]],
]
for (const [name, input, output] of cases) Downlevel(name, () => assert.equal(downlevelCrd(input), output))

Downlevel.run()

const Installed = suite('with the lab installed')

function recording(): { run: RunProgram; calls: string[][] } {
  const calls: string[][] = []
  return { calls, run: (argv, options) => (calls.push([...argv]), runProgram(argv, options)) }
}

Installed('ensureDebianPackages runs only dpkg-query, no apt command, when everything is there', async () => {
  await useLab(options)
  const { run, calls } = recording()
  assert.equal(await ensureDebianPackages(LAB_DEBIAN_PACKAGES, { run }), { installed: [] })
  assert.equal(calls.map((argv) => argv[0]), ['dpkg-query'])
})

Installed('ensureKubeApiserver only asks the cached binary for its version', async () => {
  const { run, calls } = recording()
  const binary = await ensureKubeApiserver({ cacheDir: labPaths(options).cacheDir, run })
  assert.is(binary.built, false)
  assert.match(binary.version, /^Kubernetes v1\.20\./)
  assert.equal(calls, [[binary.binary, '--version']])
})

Installed.run()
