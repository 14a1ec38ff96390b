import { existsSync, readdirSync, readFileSync, renameSync, rmSync, writeFileSync } from 'node:fs'
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
  /** Debian's policy-rc.d (the tests give another path). */
  policyRcPath?: string
  /** Whether systemd runs this machine (default: /run/systemd/system exists, as sd_booted asks). */
  systemd?: boolean
}

/**
 * The system services Debian's packages of the lab start when installed and enable at boot. The lab runs these
 * programs itself, on its own addresses and ports; the package's own would listen beside them for good (sshd on :22,
 * etcd on :2379, a containerd) or in their way: docker-registry's serves :5000 on every address, and the lab's
 * registry pods, on 127.0.3.x:5000, could not bind.
 */
export const SERVICES_OF_PACKAGE: Readonly<Record<string, readonly string[]>> = {
  'docker-registry': ['docker-registry.service'],
  'etcd-server': ['etcd.service'],
  containerd: ['containerd.service'],
  'openssh-server': ['ssh.service'],
}

/** What a policy-rc.d the lab wrote says first: one left by an interrupted install is known for ours and removed. */
const POLICY_MARK = '# homelab lab: no service starts while it installs packages'

/**
 * Debian's own switch (invoke-rc.d and deb-systemd-invoke ask /usr/sbin/policy-rc.d; 101 means "not allowed"): no
 * package starts its service during the install. A policy-rc.d someone else put there stays as it is; the lab's own
 * goes when the install ends. Returns what puts things back.
 */
function holdServiceStarts(path: string): () => void {
  const existing = existsSync(path) ? readFileSync(path, 'utf8') : undefined
  if (existing !== undefined && !existing.includes(POLICY_MARK)) return () => undefined
  writeFileSync(`${path}.tmp`, `#!/bin/sh\n${POLICY_MARK}\nexit 101\n`, { mode: 0o755 })
  renameSync(`${path}.tmp`, path)
  return () => rmSync(path, { force: true })
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

/** One APT source file: `name` relative to /etc/apt (`sources.list`, `sources.list.d/debian.sources`). */
export type AptSourceFile = { name: string; text: string }

const DEB822_MAIN = 'sources.list.d/debian.sources'
const ONE_LINE_MAIN = 'sources.list'

/** Pure. deb822 stanzas: blank-line separated, `#` lines dropped. */
function deb822Stanzas(text: string): Map<string, string>[] {
  return text.split(/\n\s*\n/).map((block) => new Map(
    block.split('\n').filter((line) => /^[A-Za-z][\w-]*:/.test(line)).map((line) => {
      const colon = line.indexOf(':')
      return [line.slice(0, colon).toLowerCase(), line.slice(colon + 1).trim()] as [string, string]
    }),
  ))
}

/** Pure. Whether any file already enables a `deb-src` source: a one-line `deb-src` entry, or a deb822 stanza typed so. */
export function hasDebSrc(files: readonly AptSourceFile[]): boolean {
  return files.some(({ name, text }) => name.endsWith('.sources')
    ? deb822Stanzas(text).some((s) => (s.get('types') ?? '').split(/\s+/).includes('deb-src') && s.get('enabled')?.toLowerCase() !== 'no')
    : text.split('\n').some((line) => /^\s*deb-src\s/.test(line)))
}

/** Pure. deb822 text with every `Types: deb` stanza typed `deb-src` instead (same mirrors, suites, keys). */
export function debSrcFromDeb822(text: string): string {
  return text.replace(/^Types: deb$/gm, 'Types: deb-src')
}

/** Pure. One `deb-src` line per active `deb` line of a one-line sources.list (options, mirror, suite kept). */
export function debSrcFromOneLine(text: string): string {
  const lines = text.split('\n').filter((line) => /^\s*deb\s/.test(line) && !/\scdrom:/.test(line))
  return lines.map((line) => `${line.trim().replace(/^deb\s/, 'deb-src ')}\n`).join('')
}

/**
 * Pure. The file that enables Debian source packages: nothing when a `deb-src` is configured already, else the main
 * source list's entries as `deb-src` (deb822 `debian.sources` first, else the one-line `sources.list` of installer and
 * debootstrap systems). Undefined `write` with `present: false` means there is nothing to derive them from.
 */
export function planDebianSources(files: readonly AptSourceFile[]): { present: boolean; write?: AptSourceFile } {
  if (hasDebSrc(files)) return { present: true }
  const text = (name: string) => files.find((f) => f.name === name)?.text ?? ''
  const deb822 = debSrcFromDeb822(text(DEB822_MAIN))
  if (/^Types: deb-src$/m.test(deb822)) return { present: false, write: { name: 'sources.list.d/debian-src.sources', text: deb822 } }
  const oneLine = debSrcFromOneLine(text(ONE_LINE_MAIN))
  if (oneLine !== '') return { present: false, write: { name: 'sources.list.d/debian-src.list', text: `# Added by the homelab lab (apt-get source kubernetes).\n${oneLine}` } }
  return { present: false }
}

/** sources.list and every `*.list` and `*.sources` in sources.list.d under `aptDir`. */
export function readAptSources(aptDir = '/etc/apt'): AptSourceFile[] {
  const listDir = join(aptDir, 'sources.list.d')
  const names = [
    ...(existsSync(join(aptDir, ONE_LINE_MAIN)) ? [ONE_LINE_MAIN] : []),
    ...(existsSync(listDir) ? readdirSync(listDir).filter((f) => /\.(list|sources)$/.test(f)).sort().map((f) => `sources.list.d/${f}`) : []),
  ]
  return names.map((name) => ({ name, text: readFileSync(join(aptDir, name), 'utf8') }))
}

/**
 * Enables Debian source packages (for `apt-get source`) unless some `deb-src` already is. Returns true when it wrote a
 * file, so the caller knows `apt-get update` is due.
 */
export function enableDebianSources(aptDir = '/etc/apt'): boolean {
  const plan = planDebianSources(readAptSources(aptDir))
  if (plan.present) return false
  if (!plan.write) {
    throw new LabStateError(`cannot enable Debian source packages: no deb entry in ${join(aptDir, DEB822_MAIN)} or ${join(aptDir, ONE_LINE_MAIN)}`, {
      path: aptDir, hint: 'add a deb-src line for your Debian 12 mirror by hand, then run apt-get update',
    })
  }
  const target = join(aptDir, plan.write.name)
  writeFileSync(`${target}.tmp`, plan.write.text, { mode: 0o644 })
  renameSync(`${target}.tmp`, target)
  return true
}

/** Installs the missing ones of `names`; runs no apt command at all when every package is already there. */
export async function ensureDebianPackages(names: readonly string[], options: DebianPackageOptions = {}): Promise<{ installed: string[] }> {
  const run = options.run ?? runProgram
  const missing = await missingDebianPackages(names, run)
  if (missing.length === 0) return { installed: [] }
  options.onProgress?.(`installing Debian packages: ${missing.join(' ')}`)
  const hint = 'run it by hand as root to see why; the lab needs Debian 12 (bookworm) with a reachable mirror'
  await run(['apt-get', 'update'], { hint })
  const release = holdServiceStarts(options.policyRcPath ?? '/usr/sbin/policy-rc.d')
  try {
    // A machine just booted may have apt-daily or unattended-upgrades holding dpkg's lock for a while: wait for it.
    await run(['env', 'DEBIAN_FRONTEND=noninteractive', 'apt-get', 'install', '-y', '--no-install-recommends', '-o', 'DPkg::Lock::Timeout=600', ...missing], { hint })
  } finally {
    release()
  }
  // Started by nothing now, but enabled: systemd would start them at the next boot. Only what this install brought.
  const units = missing.flatMap((name) => SERVICES_OF_PACKAGE[name] ?? [])
  if (units.length > 0 && (options.systemd ?? existsSync('/run/systemd/system'))) {
    const disabled = await run(['systemctl', 'disable', '--now', ...units], { allowFailure: true })
    if (disabled.code !== 0) options.onProgress?.(`could not disable ${units.join(' ')} (systemctl: ${disabled.stderr.trim()}); the lab does not need them running`)
  }
  return { installed: missing }
}
