import { existsSync, mkdirSync, readFileSync, writeFileSync } from 'node:fs'
import { setTimeout as sleep } from 'node:timers/promises'
import { processFiles } from '../lab-paths.js'
import { runProgram, type RunProgram } from '../run-program.js'
import { reconcileCertificates } from './cert-manager-double.js'
import { bindClaims } from './claim-binder.js'
import { readClusterSnapshot } from './cluster-snapshot.js'
import type { ControllerContext } from './controller-context.js'
import { ControllerLog } from './controller-log.js'
import { controllerPaths } from './controller-paths.js'
import { newKubeletMemory, reconcileDeployments, runningPods, type KubeletMemory } from './deployment-kubelet.js'
import { reconcileJobs } from './job-controller.js'
import { KubeRestClient } from './kube-rest-client.js'
import { reconcileTerminatingNamespaces, type NamespaceMemory } from './namespace-controller.js'
import { selfSignedCertificate } from './openssl-certificates.js'
import { reconcileServiceAccounts } from './service-account-controller.js'
import { serviceAddresses, writeServiceAddresses } from './service-addresses.js'
import { TraefikDouble } from './traefik-double.js'

export type LabControllerOptions = {
  stateDir: string
  /** The Traefik Service's LoadBalancer IP: where the Traefik double listens (443). */
  traefikIp: string
  /** Pause between passes; default 400 ms. */
  intervalMs?: number
  signal: AbortSignal
  run?: RunProgram
}

/** Traefik's self-signed default certificate, made once per lab. */
async function defaultCertificate(stateDir: string, run: RunProgram): Promise<{ cert: string; key: string }> {
  const paths = controllerPaths(stateDir)
  if (!existsSync(paths.defaultCert) || !existsSync(paths.defaultKey)) {
    const pair = await selfSignedCertificate({ commonName: 'TRAEFIK DEFAULT CERT', dnsNames: [], isCA: false, days: 365 }, paths.scratch, run)
    writeFileSync(paths.defaultKey, pair.keyPem, { mode: 0o600 })
    writeFileSync(paths.defaultCert, pair.certPem)
  }
  return { cert: readFileSync(paths.defaultCert, 'utf8'), key: readFileSync(paths.defaultKey, 'utf8') }
}

/** One pass: read everything, then play each controller; one failing part never stops the others. */
/** What the controllers remember between passes. */
type ControllerMemory = { kubelet: KubeletMemory; namespaces: NamespaceMemory }

async function controllerPass(context: ControllerContext, traefik: TraefikDouble, memory: ControllerMemory): Promise<void> {
  const snapshot = await readClusterSnapshot(context.client)
  context.log.clear('pass')
  const part = (name: string, fn: () => Promise<void>) => fn().then(() => context.log.clear(`part ${name}`), (error: unknown) => context.log.failure(`part ${name}`, `${name} failed`, error))
  await part('namespaces', () => reconcileTerminatingNamespaces(context, snapshot, memory.namespaces))
  await part('service accounts', () => reconcileServiceAccounts(context.client, snapshot, context.log))
  await part('cert-manager', () => reconcileCertificates(context, snapshot))
  await part('claims', () => bindClaims(context, snapshot))
  const pods = runningPods(context.stateDir, snapshot)
  const addresses = serviceAddresses(snapshot.services, pods)
  writeServiceAddresses(context.stateDir, addresses)
  await part('deployments', () => reconcileDeployments(context, snapshot, pods, addresses, memory.kubelet))
  await part('jobs', () => reconcileJobs(context, snapshot, addresses))
  traefik.update(snapshot, addresses)
}

/**
 * The lab's cluster controllers in one process: controller-manager bits (ServiceAccounts, Jobs), cert-manager's CA
 * and self-signed issuers, a kubelet for the images the lab knows, Services, and Traefik. Polls the API server
 * every `intervalMs` until `signal` aborts; pods keep running when it stops (like containers when the kubelet does).
 */
export async function runLabController(options: LabControllerOptions): Promise<void> {
  const paths = controllerPaths(options.stateDir)
  for (const dir of [paths.dir, paths.pods, paths.volumes]) mkdirSync(dir, { recursive: true })
  mkdirSync(paths.scratch, { recursive: true, mode: 0o700 })
  const log = new ControllerLog(processFiles(options.stateDir, 'lab-controller').logFile)
  const run = options.run ?? runProgram
  const context: ControllerContext = { client: KubeRestClient.forLab(options.stateDir), stateDir: options.stateDir, log, run }
  const { cert, key } = await defaultCertificate(options.stateDir, run)
  const traefik = new TraefikDouble({ ip: options.traefikIp, defaultCert: cert, defaultKey: key, log })
  await traefik.listen(443)
  writeFileSync(paths.ready, `${process.pid}\n`)
  log.info(`lab controller pid ${process.pid}: Traefik on https://${options.traefikIp}:443, watching ${context.client.server}`)
  const memory: ControllerMemory = { kubelet: newKubeletMemory(), namespaces: {} }
  try {
    while (!options.signal.aborted) {
      const started = Date.now()
      await controllerPass(context, traefik, memory).catch((error: unknown) => log.failure('pass', 'controller pass failed', error))
      const pause = Math.max(50, (options.intervalMs ?? 400) - (Date.now() - started))
      // An abort ends the pause early; the loop condition then ends the loop.
      await sleep(pause, undefined, { signal: options.signal }).catch((error: unknown) => void error)
    }
  } finally {
    await traefik.close()
    context.client.close()
    log.info('lab controller stopped (pods keep running until `lab down`)')
  }
}
