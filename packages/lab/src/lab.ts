import { existsSync, writeFileSync } from 'node:fs'
import { KubeConfig } from '@kubernetes/client-node'
import {
  apiServerHandle, apiServerStatus, prepareStateDir, startApiServer, seedK3sObjects, stopApiServer, type ApiServerHandle, type ApiServerStatus,
} from './api-server.js'
import { applyCrds, listCrds, type CrdState } from './crds.js'
import { ensureDebianPackages, LAB_DEBIAN_PACKAGES } from './debian-packages.js'
import { DEFAULT_TRAEFIK_IP } from './api-server.js'
import { ensureLabController, labControllerStatus, stopLabController, type LabControllerStatus } from './controller/lab-controller-process.js'
import { ensureKubeApiserver } from './kube-apiserver-build.js'
import { labPaths, type LabPathOptions } from './lab-paths.js'
import { withLockFile } from './lock-file.js'
import { stopLabNodes } from './nodes/lab-nodes.js'
import { stopDnsmasqsUnder } from './pihole/pihole-dnsmasq.js'
import type { RunProgram } from './run-program.js'

export type LabOptions = LabPathOptions & {
  /** The Traefik Service's LoadBalancer IP; default 127.0.2.1. */
  traefikIp?: string
  onProgress?: (message: string) => void
  run?: RunProgram
}

export type LabHandle = ApiServerHandle

export type LabUpResult = LabHandle & { started: string[]; builtKubeApiserver: boolean; installedPackages: string[] }

export type LabStatus = ApiServerStatus & { crds: CrdState[]; controller: LabControllerStatus }

/**
 * Lab options from an environment (`HOMELAB_LAB_CACHE`, `HOMELAB_LAB_DIR`, `HOMELAB_LAB_TRAEFIK_IP`). Takes the
 * environment as a parameter: only tasks and tests read `process.env`.
 */
export function labOptionsFromEnv(env: Readonly<Record<string, string | undefined>>): LabOptions {
  return { cacheDir: env.HOMELAB_LAB_CACHE || undefined, stateDir: env.HOMELAB_LAB_DIR || undefined, traefikIp: env.HOMELAB_LAB_TRAEFIK_IP || undefined }
}

/** A KubeConfig for the lab's API server, loaded from the kubeconfig `labUp` wrote. */
export function labKubeConfig(handle: Pick<LabHandle, 'kubeconfigPath'>): KubeConfig {
  const kubeConfig = new KubeConfig()
  kubeConfig.loadFromFile(handle.kubeconfigPath)
  return kubeConfig
}

/**
 * Installs the lab's Debian packages, builds kube-apiserver once, starts etcd and kube-apiserver, applies the CRDs
 * and seeds the K3s objects. Every part is idempotent: on a running lab it starts nothing and changes no object.
 */
export async function labUp(options: LabOptions = {}): Promise<LabUpResult> {
  const paths = labPaths(options)
  const { run, onProgress } = options
  const { installed } = await ensureDebianPackages(LAB_DEBIAN_PACKAGES, { run, onProgress })
  const binary = await ensureKubeApiserver({ cacheDir: paths.cacheDir, run, onProgress })
  prepareStateDir(paths.stateDir)
  // One `up` at a time per lab: two concurrent server-side applies that both create an object race to a 409.
  const onWait = (pid: number) => onProgress?.(`another lab up (pid ${pid}) is starting this lab; waiting for it`)
  const { handle, started } = await withLockFile(paths.upLock, async () => {
    const result = await startApiServer({ stateDir: paths.stateDir, kubeApiserver: binary.binary, run, onProgress })
    const kubeConfig = labKubeConfig(result.handle)
    await applyCrds({ kubeConfig, onProgress })
    await seedK3sObjects({ kubeConfig, traefikIp: options.traefikIp })
    if (!existsSync(paths.seeded)) writeFileSync(paths.seeded, `${new Date().toISOString()}\n`)
    if (await ensureLabController(paths.stateDir, options.traefikIp ?? DEFAULT_TRAEFIK_IP)) result.started.push('lab-controller')
    return result
  }, { onWait })
  return { ...handle, started, builtKubeApiserver: binary.built, installedPackages: installed }
}

/** Stops the lab's own processes (and Pi-hole doubles' dnsmasq left in its folder) and deletes it; the build cache stays. */
export async function labDown(options: LabPathOptions = {}): Promise<{ stateDir: string; stopped: string[] }> {
  const paths = labPaths(options)
  // The controller and its pods first: they talk to the API server and live in the state folder.
  const controllerStopped = existsSync(paths.marker) ? await stopLabController(paths.stateDir) : []
  // Lab nodes (sshd + containerd) before the API server, so their Node objects can still be removed.
  const nodesStopped = existsSync(paths.marker) ? await stopLabNodes(paths.stateDir) : []
  // Pi-hole doubles live in a demo's process, their dnsmasq detached: a killed demo leaves it holding the address.
  const dnsmasqStopped = existsSync(paths.marker) ? await stopDnsmasqsUnder(paths.stateDir) : []
  const { stopped } = await stopApiServer(paths.stateDir, paths.kubeApiserver)
  return { stateDir: paths.stateDir, stopped: [...controllerStopped, ...nodesStopped, ...dnsmasqStopped, ...stopped] }
}

/** Each process, readiness, and (when ready) the CRDs the server has. */
export async function labStatus(options: LabPathOptions = {}): Promise<LabStatus> {
  const paths = labPaths(options)
  const status = await apiServerStatus(paths.stateDir, paths.kubeApiserver)
  const crds = status.ready ? await listCrds(labKubeConfig({ kubeconfigPath: paths.kubeconfig })) : []
  return { ...status, crds, controller: labControllerStatus(paths.stateDir) }
}

const shellQuote = (value: string) => (/^[\w./:@-]+$/.test(value) ? value : `'${value.replaceAll("'", `'\\''`)}'`)

/** `export NAME=value` lines that point a shell's kubectl and tools at the lab. */
export function labEnv(options: LabPathOptions = {}): string[] {
  const paths = labPaths(options)
  return [`export KUBECONFIG=${shellQuote(paths.kubeconfig)}`, `export HOMELAB_LAB_DIR=${shellQuote(paths.stateDir)}`]
}

/**
 * Test fixture: the running lab, started first if it is not up (so the first test file of a run starts it and the
 * others reuse it). Never stops it: the test runner runs `lab down` at the end.
 */
export async function useLab(options: LabOptions = {}): Promise<LabHandle> {
  const paths = labPaths(options)
  if (existsSync(paths.seeded) && (await apiServerStatus(paths.stateDir, paths.kubeApiserver)).ready) {
    // Under the up lock: two test files starting the controller at once would race for the Traefik port.
    if (!labControllerStatus(paths.stateDir).controller.alive) {
      await withLockFile(paths.upLock, () => ensureLabController(paths.stateDir, options.traefikIp ?? DEFAULT_TRAEFIK_IP))
    }
    return apiServerHandle(paths.stateDir)
  }
  const { started: _started, builtKubeApiserver: _built, installedPackages: _installed, ...handle } = await labUp(options)
  return handle
}
