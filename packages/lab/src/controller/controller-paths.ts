import { join, resolve } from 'node:path'

/** Where the lab controller keeps its state, under `<state>/controller/`. */
export type ControllerPaths = {
  dir: string
  /** `namespace/name` of a Deployment → its loopback pod IP, kept so an address never moves. */
  podIps: string
  /** Where each Service answers (pod IP and ports), for `labServiceAddress`. */
  services: string
  /** The self-signed CA certificates the lab's cert-manager issued, concatenated (for `labCaBundle`). */
  caBundle: string
  /** Traefik's default certificate, for an SNI no IngressRoute serves. */
  defaultCert: string
  defaultKey: string
  /** Written (with the controller's pid) once the Traefik double listens. */
  ready: string
  pods: string
  volumes: string
  /** Scratch folder for openssl (private keys live here for a moment, 0700). */
  scratch: string
}

export function controllerPaths(stateDir: string): ControllerPaths {
  const dir = join(resolve(stateDir), 'controller')
  return {
    dir,
    podIps: join(dir, 'pod-ips.json'),
    services: join(dir, 'services.json'),
    caBundle: join(dir, 'ca-bundle.pem'),
    defaultCert: join(dir, 'traefik-default.crt'),
    defaultKey: join(dir, 'traefik-default.key'),
    ready: join(dir, 'ready'),
    pods: join(dir, 'pods'),
    volumes: join(dir, 'volumes'),
    scratch: join(dir, 'scratch'),
  }
}

/** A pod's folder: run script, pid, log, its /dev and its ConfigMap/Secret volumes. */
export type PodPaths = {
  dir: string
  runScript: string
  pidFile: string
  log: string
  templateHash: string
  hosts: string
  dev: string
  terminationLog: string
  exitCode: string
  volumes: string
}

/** `kind` keeps a Deployment's pod and a Job's pod of the same name apart. */
export function podPaths(stateDir: string, kind: 'deployment' | 'job', namespace: string, name: string): PodPaths {
  const dir = join(controllerPaths(stateDir).pods, `${kind}.${namespace}.${name}`)
  return {
    dir,
    runScript: join(dir, 'run.sh'),
    pidFile: join(dir, 'pid'),
    log: join(dir, 'container.log'),
    templateHash: join(dir, 'template-hash'),
    hosts: join(dir, 'hosts'),
    dev: join(dir, 'dev'),
    terminationLog: join(dir, 'dev', 'termination-log'),
    exitCode: join(dir, 'exit-code'),
    volumes: join(dir, 'volumes'),
  }
}

/** A PersistentVolumeClaim's data: one folder per claim, shared by every pod that mounts it (registry and GC Job). */
export function claimDir(stateDir: string, namespace: string, claim: string): string {
  return join(controllerPaths(stateDir).volumes, 'pvc', namespace, claim)
}
