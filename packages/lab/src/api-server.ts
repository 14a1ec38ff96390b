import { randomBytes } from 'node:crypto'
import { chmodSync, existsSync, mkdirSync, readdirSync, readFileSync, renameSync, rmSync, writeFileSync } from 'node:fs'
import { request as httpRequest } from 'node:http'
import { request as httpsRequest } from 'node:https'
import { connect } from 'node:net'
import { setTimeout as sleep } from 'node:timers/promises'
import { LabTimeoutError } from './errors/lab-error.js'
import { LabSecret } from './lab-secret.js'
import { CoreV1Api, KubernetesObjectApi, PatchStrategy, type KubeConfig, type KubernetesObject, type V1Service } from '@kubernetes/client-node'
import { stringify } from 'yaml'
import { FIELD_MANAGER } from './crds.js'
import { detachedProcessState, logTail, startDetached, stopDetached, type DetachedProcessSpec, type DetachedProcessState } from './detached-process.js'
import { LabStateError } from './errors/lab-state-error.js'
import { kubeApiFailure } from './kube-api-failure.js'
import { statePaths, type StatePaths } from './lab-paths.js'
import { withLockFile } from './lock-file.js'
import { runProgram, type RunProgram } from './run-program.js'

export const LAB_HOST = '127.0.0.1'
export const LAB_PORTS = { etcdClient: 12379, etcdPeer: 12380, apiserver: 16443 } as const
export const LAB_SERVER = `https://${LAB_HOST}:${LAB_PORTS.apiserver}`
export const ETCD_BINARY = '/usr/bin/etcd'

/** What a test or a client needs to reach the lab's API server. */
export type ApiServerHandle = { stateDir: string; kubeconfigPath: string; server: string; token: LabSecret; caFile: string }

export type StartApiServerOptions = {
  stateDir: string
  kubeApiserver: string
  etcd?: string
  run?: RunProgram
  onProgress?: (message: string) => void
  readyTimeoutMs?: number
}

export type ApiServerStatus = { stateDir: string; server: string; processes: DetachedProcessState[]; ready: boolean }

export function etcdSpec(stateDir: string, etcd = ETCD_BINARY): DetachedProcessSpec {
  const client = `http://${LAB_HOST}:${LAB_PORTS.etcdClient}`
  const dataDir = `--data-dir=${statePaths(stateDir).etcdDataDir}`
  return {
    name: 'etcd', stateDir, marker: dataDir,
    argv: [etcd, dataDir, `--listen-client-urls=${client}`, `--advertise-client-urls=${client}`,
      `--listen-peer-urls=http://${LAB_HOST}:${LAB_PORTS.etcdPeer}`, `--initial-advertise-peer-urls=http://${LAB_HOST}:${LAB_PORTS.etcdPeer}`,
      `--initial-cluster=default=http://${LAB_HOST}:${LAB_PORTS.etcdPeer}`],
  }
}

export function kubeApiserverSpec(stateDir: string, kubeApiserver: string): DetachedProcessSpec {
  const paths = statePaths(stateDir)
  const certDir = `--cert-dir=${paths.certDir}`
  return {
    name: 'kube-apiserver', stateDir, marker: certDir,
    argv: [kubeApiserver, `--etcd-servers=http://${LAB_HOST}:${LAB_PORTS.etcdClient}`, `--secure-port=${LAB_PORTS.apiserver}`,
      `--bind-address=${LAB_HOST}`, certDir, `--token-auth-file=${paths.tokenFile}`,
      `--service-account-key-file=${paths.saCert}`, `--service-account-signing-key-file=${paths.saKey}`,
      '--service-account-issuer=https://kubernetes.default.svc', '--authorization-mode=RBAC',
      '--service-cluster-ip-range=10.96.0.0/12', '--allow-privileged=true'],
  }
}

/** The admin token from the lab's token file (`token,admin,admin,system:masters`). */
export function readAdminToken(stateDir: string): LabSecret {
  const tokenFile = statePaths(stateDir).tokenFile
  const token = existsSync(tokenFile) ? readFileSync(tokenFile, 'utf8').split(',')[0]?.trim() : undefined
  if (!token) throw new LabStateError(`no admin token in ${tokenFile}`, { path: tokenFile, hint: 'run `pnpm lab up`' })
  return new LabSecret(token)
}

export function apiServerHandle(stateDir: string): ApiServerHandle {
  const paths = statePaths(stateDir)
  return { stateDir, kubeconfigPath: paths.kubeconfig, server: LAB_SERVER, token: readAdminToken(stateDir), caFile: paths.apiserverCert }
}

/** Creates the state folder (0700, with the lab's marker); refuses a non-empty folder the lab did not create. */
export function prepareStateDir(stateDir: string): StatePaths {
  const paths = statePaths(stateDir)
  if (existsSync(stateDir) && !existsSync(paths.marker) && readdirSync(stateDir).length > 0) {
    throw new LabStateError(`${stateDir} is not empty and was not created by the lab`, {
      path: stateDir, hint: 'point HOMELAB_LAB_DIR (or --state-dir) at an empty or new folder',
    })
  }
  mkdirSync(stateDir, { recursive: true, mode: 0o700 })
  if (!existsSync(paths.marker)) writeFileSync(paths.marker, 'homelab-devtools lab state; `pnpm lab down` deletes this folder\n')
  return paths
}

/** A random admin token per lab, and the service-account key pair; each made once and kept. */
async function ensureCredentials(paths: StatePaths, run: RunProgram): Promise<void> {
  if (!existsSync(paths.tokenFile)) {
    writeFileSync(paths.tokenFile, `${randomBytes(32).toString('hex')},admin,admin,system:masters\n`, { mode: 0o600, flag: 'wx' })
  }
  if (!existsSync(paths.saKey) || !existsSync(paths.saCert)) {
    await run(['openssl', 'req', '-x509', '-newkey', 'rsa:2048', '-nodes', '-keyout', paths.saKey, '-out', paths.saCert,
      '-days', '3650', '-subj', '/CN=homelab-lab-service-accounts'])
    chmodSync(paths.saKey, 0o600)
  }
}

function portInUse(port: number): Promise<boolean> {
  return new Promise((resolvePromise) => {
    const socket = connect({ host: LAB_HOST, port })
    socket.once('connect', () => { socket.destroy(); resolvePromise(true) })
    socket.once('error', () => resolvePromise(false)) // refused: nobody listens, which is what we want to know
  })
}

async function assertPortFree(port: number, name: string): Promise<void> {
  if (await portInUse(port)) {
    throw new LabStateError(`cannot start ${name}: ${LAB_HOST}:${port} is already in use by a program this lab did not start`, {
      hint: `stop it (\`ss -ltnp 'sport = :${port}'\` shows which), or run \`pnpm lab down\` with the state folder of the lab that owns it`,
    })
  }
}

/** GET `url` with an optional CA and bearer token; resolves with the status and body, or undefined if unreachable. */
function probe(url: string, options: { ca?: Buffer; token?: LabSecret } = {}): Promise<{ status: number; body: string } | undefined> {
  return new Promise((resolvePromise) => {
    const send = url.startsWith('https:') ? httpsRequest : httpRequest
    const headers = options.token ? { authorization: `Bearer ${options.token.reveal()}` } : undefined
    const req = send(url, { ca: options.ca, headers, timeout: 2_000 }, (res) => {
      let body = ''
      res.on('data', (chunk: Buffer) => (body += chunk.toString()))
      res.on('end', () => resolvePromise({ status: res.statusCode ?? 0, body }))
    })
    req.on('timeout', () => req.destroy())
    req.on('error', () => resolvePromise(undefined)) // not up yet: the caller polls until its deadline
    req.end()
  })
}

/** True when `/readyz` answers 200 `ok`, trusting only the lab's CA and sending the admin token. */
export async function apiServerReady(stateDir: string): Promise<boolean> {
  const paths = statePaths(stateDir)
  if (!existsSync(paths.apiserverCert) || !existsSync(paths.tokenFile)) return false
  const answer = await probe(`${LAB_SERVER}/readyz`, { ca: readFileSync(paths.apiserverCert), token: readAdminToken(stateDir) })
  return answer?.status === 200 && answer.body.trim() === 'ok'
}

async function etcdHealthy(): Promise<boolean> {
  const answer = await probe(`http://${LAB_HOST}:${LAB_PORTS.etcdClient}/health`)
  return answer?.status === 200 && answer.body.includes('"health":"true"')
}

/** Polls `check` until true; fails early, with the log tail, when the process died, and at the deadline. */
async function waitForProcess(spec: DetachedProcessSpec, what: string, check: () => Promise<boolean>, timeoutMs: number): Promise<void> {
  const deadline = Date.now() + timeoutMs
  while (!(await check())) {
    const state = detachedProcessState(spec)
    const hint = `its log ${state.logFile} ends with:\n${logTail(state.logFile)}`
    if (!state.alive) throw new LabStateError(`${spec.name} exited before ${what}`, { path: state.logFile, hint })
    if (Date.now() > deadline) throw new LabTimeoutError(`${spec.name} not ${what} after ${timeoutMs / 1000}s`, { path: state.logFile, hint })
    await sleep(250)
  }
}

/** Starts the spec unless its pid file names a live instance; returns whether it started it. */
async function ensureRunning(spec: DetachedProcessSpec, port: number): Promise<boolean> {
  if (detachedProcessState(spec).alive) return false
  await assertPortFree(port, spec.name)
  startDetached(spec)
  return true
}

/**
 * Brings up etcd and kube-apiserver for this state folder and writes its kubeconfig. Idempotent: when both run and
 * `/readyz` says ok it starts nothing (`started` is empty). Call it from {@link prepareStateDir} and under the state
 * folder's up lock (`labUp` does), so two concurrent calls do not both start a process.
 */
export async function startApiServer(options: StartApiServerOptions): Promise<{ handle: ApiServerHandle; started: string[] }> {
  const paths = statePaths(options.stateDir)
  const etcd = etcdSpec(options.stateDir, options.etcd)
  const apiserver = kubeApiserverSpec(options.stateDir, options.kubeApiserver)
  const started: string[] = []
  if (!(detachedProcessState(etcd).alive && detachedProcessState(apiserver).alive && (await apiServerReady(options.stateDir)))) {
    await ensureCredentials(paths, options.run ?? runProgram)
    if (await ensureRunning(etcd, LAB_PORTS.etcdClient)) started.push(etcd.name)
    await waitForProcess(etcd, 'healthy', etcdHealthy, 30_000)
    if (await ensureRunning(apiserver, LAB_PORTS.apiserver)) started.push(apiserver.name)
    options.onProgress?.(`waiting for ${LAB_SERVER}/readyz`)
    await waitForProcess(apiserver, 'ready', () => apiServerReady(options.stateDir), options.readyTimeoutMs ?? 90_000)
  }
  writeKubeconfig(paths, readAdminToken(options.stateDir))
  return { handle: apiServerHandle(options.stateDir), started }
}

/** Writes `<state>/kubeconfig` (0600) when its content would change: the lab server, its CA inline, the admin token. */
export function writeKubeconfig(paths: StatePaths, token: LabSecret): string {
  const kubeconfig = stringify({
    apiVersion: 'v1', kind: 'Config', 'current-context': 'homelab-lab', preferences: {},
    clusters: [{ name: 'homelab-lab', cluster: { server: LAB_SERVER, 'certificate-authority-data': readFileSync(paths.apiserverCert).toString('base64') } }],
    users: [{ name: 'homelab-lab-admin', user: { token: token.reveal() } }],
    contexts: [{ name: 'homelab-lab', context: { cluster: 'homelab-lab', user: 'homelab-lab-admin' } }],
  })
  if (existsSync(paths.kubeconfig) && readFileSync(paths.kubeconfig, 'utf8') === kubeconfig) return paths.kubeconfig
  const staged = `${paths.kubeconfig}.tmp`
  rmSync(staged, { force: true })
  writeFileSync(staged, kubeconfig, { mode: 0o600 })
  renameSync(staged, paths.kubeconfig)
  return paths.kubeconfig
}

/** Each lab process (from its pid file, checked against /proc) and whether `/readyz` answers ok. */
export async function apiServerStatus(stateDir: string, kubeApiserver: string, etcd = ETCD_BINARY): Promise<ApiServerStatus> {
  const processes = [etcdSpec(stateDir, etcd), kubeApiserverSpec(stateDir, kubeApiserver)].map(detachedProcessState)
  const ready = processes.every((p) => p.alive) && (await apiServerReady(stateDir))
  return { stateDir, server: LAB_SERVER, processes, ready }
}

/**
 * Stops the processes whose pid files this lab wrote (only if /proc shows they still are those programs), then
 * deletes the state folder; refuses to delete a folder without the lab's marker.
 */
export async function stopApiServer(stateDir: string, kubeApiserver: string, etcd = ETCD_BINARY): Promise<{ stopped: string[] }> {
  const paths = statePaths(stateDir)
  if (!existsSync(stateDir)) return { stopped: [] }
  if (!existsSync(paths.marker)) {
    throw new LabStateError(`${stateDir} has no lab marker; not stopping anything or deleting it`, {
      path: stateDir, hint: 'check HOMELAB_LAB_DIR / --state-dir',
    })
  }
  // Under the up lock, so a `down` during an `up` waits instead of deleting files the `up` is writing.
  return withLockFile(paths.upLock, async () => {
    const stopped: string[] = []
    // The API server first, so it does not log a storm of etcd connection errors on the way down.
    for (const spec of [kubeApiserverSpec(stateDir, kubeApiserver), etcdSpec(stateDir, etcd)]) {
      if (await stopDetached(spec)) stopped.push(spec.name)
    }
    rmSync(stateDir, { recursive: true, force: true })
    return { stopped }
  })
}

/** The Traefik Service's LoadBalancer IP in the lab: the address the lab's TLS proxy listens on. */
export const DEFAULT_TRAEFIK_IP = '127.0.2.1'

export type SeedOptions = { kubeConfig: KubeConfig; traefikIp?: string; timeoutMs?: number }

/** What a K3s cluster has and the tool relies on: the `local-path` StorageClass and Traefik's LoadBalancer Service. */
export function k3sObjects(): KubernetesObject[] {
  const storageClass = {
    apiVersion: 'storage.k8s.io/v1', kind: 'StorageClass',
    metadata: { name: 'local-path', annotations: { 'storageclass.kubernetes.io/is-default-class': 'true' } },
    provisioner: 'rancher.io/local-path', reclaimPolicy: 'Delete', volumeBindingMode: 'WaitForFirstConsumer',
  }
  const labels = { 'app.kubernetes.io/instance': 'traefik-kube-system', 'app.kubernetes.io/name': 'traefik' }
  // Server-side apply on 1.20 needs `protocol` on every port (it is a key of the ports list).
  const traefik = {
    apiVersion: 'v1', kind: 'Service', metadata: { name: 'traefik', namespace: 'kube-system', labels },
    spec: { type: 'LoadBalancer', selector: labels, ports: [
      { name: 'web', port: 80, protocol: 'TCP', targetPort: 'web' },
      { name: 'websecure', port: 443, protocol: 'TCP', targetPort: 'websecure' },
    ] },
  }
  return [storageClass, traefik]
}

/** Applies {@link k3sObjects} and sets the Traefik Service's LoadBalancer IP (what K3s's service LB would do). */
export async function seedK3sObjects(options: SeedOptions): Promise<void> {
  const server = options.kubeConfig.getCurrentCluster()?.server ?? LAB_SERVER
  const core = options.kubeConfig.makeApiClient(CoreV1Api)
  await waitForNamespace(core, 'kube-system', server, options.timeoutMs ?? 30_000)
  const objects = KubernetesObjectApi.makeApiClient(options.kubeConfig)
  for (const object of k3sObjects()) {
    await objects.patch(object, undefined, undefined, FIELD_MANAGER, true, PatchStrategy.ServerSideApply)
      .catch((error: unknown) => { throw kubeApiFailure({ action: 'apply', object: `${object.kind} ${object.metadata?.name}`, server }, error) })
  }
  await setLoadBalancerIp(core, server, options.traefikIp ?? DEFAULT_TRAEFIK_IP)
  await ensureNamespace(core, server, 'cert-manager')
}

/**
 * Clusters that run cert-manager have its namespace (the CA issuer's Secret lives there). Created only when missing,
 * never applied: a server-side apply under the tool's field manager would strip labels the tool sets on it.
 */
async function ensureNamespace(core: CoreV1Api, server: string, name: string): Promise<void> {
  const list = await core.listNamespace().catch((error: unknown) => { throw kubeApiFailure({ action: 'list', object: 'Namespaces', server }, error) })
  if (list.items.some((ns) => ns.metadata?.name === name)) return
  await core.createNamespace({ body: { metadata: { name } } })
    .catch((error: unknown) => { throw kubeApiFailure({ action: 'create', object: `Namespace ${name}`, server }, error) })
}

async function setLoadBalancerIp(core: CoreV1Api, server: string, ip: string): Promise<void> {
  const ref = { name: 'traefik', namespace: 'kube-system' }
  const fail = (action: string) => (error: unknown) => { throw kubeApiFailure({ action, object: 'Service kube-system/traefik', server }, error) }
  const service: V1Service = await core.readNamespacedService(ref).catch(fail('read'))
  const ingress = service.status?.loadBalancer?.ingress ?? []
  if (ingress.length === 1 && ingress[0]?.ip === ip) return
  const body: V1Service = { ...service, status: { loadBalancer: { ingress: [{ ip }] } } }
  await core.replaceNamespacedServiceStatus({ ...ref, body }).catch(fail('update status of'))
}

// The API server creates kube-system itself, shortly after it first reports ready.
async function waitForNamespace(core: CoreV1Api, name: string, server: string, timeoutMs: number): Promise<void> {
  const deadline = Date.now() + timeoutMs
  for (;;) {
    const list = await core.listNamespace().catch((error: unknown) => { throw kubeApiFailure({ action: 'list', object: 'Namespaces', server }, error) })
    if (list.items.some((ns) => ns.metadata?.name === name)) return
    if (Date.now() > deadline) throw new LabTimeoutError(`Namespace ${name} did not appear on ${server} within ${timeoutMs / 1000}s`, { host: server })
    await sleep(250)
  }
}
