import { existsSync, readFileSync, writeFileSync } from 'node:fs'
import { join } from 'node:path'
import { LabStateError } from './errors/lab-state-error.js'
import { runProgram, type RunProgram } from './run-program.js'

/** Everything the lab runs or builds with, all from Debian 12's archive. */
export const LAB_DEBIAN_PACKAGES = [
  'golang-go', 'etcd-server', 'rsync', 'jq', 'golang-github-modern-go-reflect2-dev', 'dpkg-dev', 'docker-registry',
  'openssh-server', 'containerd', 'dnsmasq-base', 'skopeo', 'apache2-utils', 'openssl', 'sudo', 'util-linux', 'iproute2',
  // The lab's pods run host programs: the registry image's busybox wget (metrics probe Jobs) is GNU wget here.
  'wget',
] as const

export type DebianPackageOptions = {
  run?: RunProgram
  onProgress?: (message: string) => void
  /** Default `/etc/apt/sources.list.d`. */
  sourcesDir?: string
}

/** Which of `names` dpkg does not report as `install ok installed`. */
export async function missingDebianPackages(names: readonly string[], run: RunProgram = runProgram): Promise<string[]> {
  if (names.length === 0) return []
  // Exit code 1 only means some names are unknown to dpkg: those are missing too.
  const { stdout } = await run(['dpkg-query', '-W', '-f=${Package} ${Status}\n', ...names], { allowFailure: true })
  const installed = new Set(
    stdout.split('\n').filter((line) => line.endsWith(' install ok installed')).map((line) => line.split(' ')[0]),
  )
  return names.filter((name) => !installed.has(name))
}

/**
 * Writes `debian-src.sources` (the same mirrors and suites as `debian.sources`, as `deb-src`) unless it exists.
 * Returns true when it wrote the file, so the caller knows `apt-get update` is due.
 */
export function enableDebianSources(sourcesDir = '/etc/apt/sources.list.d'): boolean {
  const target = join(sourcesDir, 'debian-src.sources')
  if (existsSync(target)) return false
  const source = join(sourcesDir, 'debian.sources')
  if (!existsSync(source)) {
    throw new LabStateError(`cannot enable Debian source packages: ${source} not found`, {
      path: source, hint: 'add a deb-src line for your Debian 12 mirror by hand, then run apt-get update',
    })
  }
  writeFileSync(target, readFileSync(source, 'utf8').replace(/^Types: deb$/gm, 'Types: deb-src'), { mode: 0o644 })
  return true
}

/** Installs the missing ones of `names`; runs no apt command at all when every package is already there. */
export async function ensureDebianPackages(names: readonly string[], options: DebianPackageOptions = {}): Promise<{ installed: string[] }> {
  const run = options.run ?? runProgram
  const missing = await missingDebianPackages(names, run)
  if (missing.length === 0) return { installed: [] }
  options.onProgress?.(`installing Debian packages: ${missing.join(' ')}`)
  enableDebianSources(options.sourcesDir)
  const hint = 'run it by hand as root to see why; the lab needs Debian 12 (bookworm) with a reachable mirror'
  await run(['apt-get', 'update'], { hint })
  await run(['env', 'DEBIAN_FRONTEND=noninteractive', 'apt-get', 'install', '-y', '--no-install-recommends', ...missing], { hint })
  return { installed: missing }
}
