import { existsSync } from 'node:fs'
import { dirname, join, resolve } from 'node:path'
import { fileURLToPath } from 'node:url'
import { LabStateError } from './errors/lab-state-error.js'

/** Slow builds (kube-apiserver) live here, outside the repo, so a fresh clone or `lab down` keeps them. */
export const DEFAULT_CACHE_DIR = '/var/cache/homelab-lab'

/** The repo root, found from this module's location (packages/lab/src → three levels up). */
export function repoRoot(): string {
  return resolve(dirname(fileURLToPath(import.meta.url)), '..', '..', '..')
}

/** The upstream CRDs; the repo is cloned next to `shared/`. */
export function crdFixturesDir(root: string = repoRoot()): string {
  return resolve(root, '..', 'shared', 'fixtures', 'crds')
}

/**
 * `path`, once it is known to exist: the upstream files the lab reads (CRDs, Pi-hole's OpenAPI spec) are not in this
 * repository but in `shared/fixtures` beside it, and a clone elsewhere would otherwise fail on a bare ENOENT.
 */
export function upstreamFixture(path: string, what: string): string {
  if (existsSync(path)) return path
  throw new LabStateError(`${what} not found: ${path}`, {
    path,
    hint: 'the lab reads the upstream fixtures from shared/fixtures next to this repository: clone it beside shared/ (as ../shared from its root)',
  })
}

export type LabPathOptions = {
  /** Build cache; default {@link DEFAULT_CACHE_DIR}. */
  cacheDir?: string
  /** Runtime state (etcd data, certs, token, pid and log files); default `<repo root>/.lab`. */
  stateDir?: string
}

export type CachePaths = {
  cacheDir: string
  binDir: string
  kubeApiserver: string
  srcDir: string
  homeDir: string
  buildLog: string
  buildLock: string
}

export type StatePaths = {
  stateDir: string
  /** Present only in a folder the lab created: `down` refuses to delete a folder without it. */
  marker: string
  upLock: string
  /** Written once CRDs and K3s objects are in place, so `useLab` can trust a running lab. */
  seeded: string
  etcdDataDir: string
  certDir: string
  /** kube-apiserver writes its self-signed serving cert (with its CA appended) here. */
  apiserverCert: string
  tokenFile: string
  saKey: string
  saCert: string
  kubeconfig: string
}

export type LabPaths = CachePaths & StatePaths

export function cachePaths(cacheDir: string): CachePaths {
  const binDir = join(cacheDir, 'bin')
  return {
    cacheDir,
    binDir,
    kubeApiserver: join(binDir, 'kube-apiserver'),
    srcDir: join(cacheDir, 'src'),
    homeDir: join(cacheDir, 'home'),
    buildLog: join(cacheDir, 'kube-apiserver-build.log'),
    buildLock: join(cacheDir, 'kube-apiserver-build.lock'),
  }
}

export function statePaths(stateDir: string): StatePaths {
  const certDir = join(stateDir, 'certs')
  return {
    stateDir,
    marker: join(stateDir, '.homelab-lab'),
    upLock: join(stateDir, 'up.lock'),
    seeded: join(stateDir, 'seeded'),
    etcdDataDir: join(stateDir, 'etcd'),
    certDir,
    apiserverCert: join(certDir, 'apiserver.crt'),
    tokenFile: join(stateDir, 'tokens.csv'),
    saKey: join(stateDir, 'sa.key'),
    saCert: join(stateDir, 'sa.crt'),
    kubeconfig: join(stateDir, 'kubeconfig'),
  }
}

/** Pid and log files of one lab process, named after it. */
export function processFiles(stateDir: string, name: string): { pidFile: string; logFile: string } {
  return { pidFile: join(stateDir, `${name}.pid`), logFile: join(stateDir, `${name}.log`) }
}

export function labPaths(options: LabPathOptions = {}): LabPaths {
  const cacheDir = resolve(options.cacheDir ?? DEFAULT_CACHE_DIR)
  const stateDir = resolve(options.stateDir ?? join(repoRoot(), '.lab'))
  return { ...cachePaths(cacheDir), ...statePaths(stateDir) }
}
