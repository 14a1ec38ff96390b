// A kube-apiserver of the suite's own, on its own port, over the shared lab's etcd: it can be killed and restarted
// mid-bootstrap without taking the shared lab's API server (which other test files use) down with it. The objects
// are the shared lab's (same etcd), so the lab controller still plays cert-manager and the kubelet for them.
import { randomBytes } from 'node:crypto'
import { existsSync, mkdirSync, readFileSync, writeFileSync } from 'node:fs'
import { join } from 'node:path'
import { setTimeout as sleep } from 'node:timers/promises'
import { DEFAULT_CACHE_DIR, LAB_PORTS, labPaths, startDetached, stopDetached, detachedProcessState, logTail, type DetachedProcessSpec } from '@homelab/lab'

export const PRIVATE_API_PORT = 16543

export type PrivateApiServer = {
  kubeconfigPath: string
  /** The same server as a user with no role at all: every write is forbidden. */
  viewerKubeconfigPath: string
  server: string
  spec: DetachedProcessSpec
  start(): Promise<void>
  /** SIGKILL: no goodbye to clients, as when the machine under it dies. */
  kill(): void
  stop(): Promise<void>
}

export function privateApiServer(options: { dir: string; labStateDir: string }): PrivateApiServer {
  mkdirSync(options.dir, { recursive: true, mode: 0o700 })
  const lab = labPaths({ stateDir: options.labStateDir, cacheDir: process.env['HOMELAB_LAB_CACHE'] || DEFAULT_CACHE_DIR })
  const certDir = join(options.dir, 'certs')
  const tokenFile = join(options.dir, 'tokens.csv')
  if (!existsSync(tokenFile)) {
    const token = () => randomBytes(24).toString('hex')
    writeFileSync(tokenFile, `${token()},admin,admin,system:masters\n${token()},viewer,viewer\n`, { mode: 0o600 })
  }
  const server = `https://127.0.0.1:${PRIVATE_API_PORT}`
  const spec: DetachedProcessSpec = {
    name: 'private-kube-apiserver',
    stateDir: options.dir,
    marker: `--cert-dir=${certDir}`,
    argv: [lab.kubeApiserver, `--etcd-servers=http://127.0.0.1:${LAB_PORTS.etcdClient}`, `--secure-port=${PRIVATE_API_PORT}`,
      '--bind-address=127.0.0.1', `--cert-dir=${certDir}`, `--token-auth-file=${tokenFile}`,
      `--service-account-key-file=${lab.saCert}`, `--service-account-signing-key-file=${lab.saKey}`,
      '--service-account-issuer=https://kubernetes.default.svc', '--authorization-mode=RBAC',
      '--service-cluster-ip-range=10.96.0.0/12', '--allow-privileged=true'],
  }
  const kubeconfigPath = join(options.dir, 'kubeconfig')
  const viewerKubeconfigPath = join(options.dir, 'viewer-kubeconfig')
  const tokenOf = (line: number) => readFileSync(tokenFile, 'utf8').split('\n')[line]!.split(',')[0]!
  const token = () => tokenOf(0)
  return {
    kubeconfigPath,
    viewerKubeconfigPath,
    server,
    spec,
    async start() {
      if (!detachedProcessState(spec).alive) startDetached(spec)
      const cert = join(certDir, 'apiserver.crt')
      for (const deadline = Date.now() + 90_000; ; await sleep(250)) {
        if (existsSync(cert) && (await readyWithCa(server, token(), readFileSync(cert)))) break
        if (!detachedProcessState(spec).alive) throw new Error(`the private kube-apiserver exited:\n${logTail(detachedProcessState(spec).logFile)}`)
        if (Date.now() > deadline) throw new Error(`the private kube-apiserver is not ready after 90 s:\n${logTail(detachedProcessState(spec).logFile)}`)
      }
      const ca = readFileSync(join(certDir, 'apiserver.crt'))
      writeFileSync(kubeconfigPath, kubeconfigText(server, ca, token()), { mode: 0o600 })
      writeFileSync(viewerKubeconfigPath, kubeconfigText(server, ca, tokenOf(1)), { mode: 0o600 })
    },
    kill() {
      const { pid } = detachedProcessState(spec)
      if (pid !== undefined && detachedProcessState(spec).alive) process.kill(pid, 'SIGKILL')
    },
    stop: async () => void (await stopDetached(spec)),
  }
}

async function readyWithCa(server: string, token: string, ca: Buffer): Promise<boolean> {
  const { request } = await import('node:https')
  return new Promise((resolve) => {
    const req = request(`${server}/readyz`, { ca, headers: { authorization: `Bearer ${token}` }, timeout: 2000 }, (res) => {
      res.resume()
      res.on('end', () => resolve(res.statusCode === 200))
    })
    req.on('timeout', () => req.destroy())
    // Not listening yet: the caller polls until its deadline.
    req.on('error', () => resolve(false))
    req.end()
  })
}

export const kubeconfigText = (server: string, ca: Buffer, token: string) =>
  JSON.stringify({
    apiVersion: 'v1', kind: 'Config', 'current-context': 'private', preferences: {},
    clusters: [{ name: 'private', cluster: { server, 'certificate-authority-data': ca.toString('base64') } }],
    users: [{ name: 'admin', user: { token } }],
    contexts: [{ name: 'private', context: { cluster: 'private', user: 'admin' } }],
  })
