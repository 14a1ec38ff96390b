import { Resolver } from 'node:dns/promises'
import { existsSync, readdirSync, readFileSync, renameSync, statSync, writeFileSync } from 'node:fs'
import { join, relative } from 'node:path'
import { setTimeout as sleep } from 'node:timers/promises'
import { detachedProcessState, logTail, startDetached, stopDetached, type DetachedProcessSpec } from '../detached-process.js'
import { LabStateError } from '../errors/lab-state-error.js'
import { processFiles } from '../lab-paths.js'
import { cnameConfText, hostsFileText, type PiholeRecords } from './pihole-record-store.js'

export const DNSMASQ = '/usr/sbin/dnsmasq'

export type DnsmasqOptions = { stateDir: string; address: string; port: number }

export type DnsmasqFiles = { hostsFile: string; cnameFile: string }

export function dnsmasqFiles(stateDir: string): DnsmasqFiles {
  return { hostsFile: join(stateDir, 'hosts'), cnameFile: join(stateDir, 'cnames.conf') }
}

/**
 * Pi-hole's resolver is a dnsmasq fork: A records come from a hosts file that a SIGHUP re-reads, CNAMEs from `cname=`
 * lines that are only read at start (FTL restarts itself for them; so do we). `--user=root` keeps the re-read working
 * in a state folder only root can read; the argv holds no secret.
 */
export function dnsmasqSpec(options: DnsmasqOptions): DetachedProcessSpec {
  const { hostsFile, cnameFile } = dnsmasqFiles(options.stateDir)
  const marker = `--addn-hosts=${hostsFile}`
  const argv = [
    DNSMASQ, '-k', `--port=${options.port}`, `--listen-address=${options.address}`, '--bind-interfaces', '--no-resolv', '--no-hosts',
    marker, `--conf-file=${cnameFile}`, '--pid-file=', '--user=root', '--log-facility=-',
  ]
  return { name: 'dnsmasq', stateDir: options.stateDir, argv, marker }
}

export function writeDnsmasqFiles(stateDir: string, records: PiholeRecords, which: { hosts: boolean; cnames: boolean }): void {
  const files = dnsmasqFiles(stateDir)
  const write = (path: string, text: string) => {
    writeFileSync(`${path}.tmp`, text)
    renameSync(`${path}.tmp`, path)
  }
  if (which.hosts || !existsSync(files.hostsFile)) write(files.hostsFile, hostsFileText(records))
  if (which.cnames || !existsSync(files.cnameFile)) write(files.cnameFile, cnameConfText(records))
}

/** Starts dnsmasq, first stopping one a crashed run left on the same folder, and waits until it listens and answers. */
export async function startDnsmasq(options: DnsmasqOptions): Promise<void> {
  const spec = dnsmasqSpec(options)
  await stopDetached(spec)
  const { logFile } = processFiles(options.stateDir, spec.name)
  // The log is appended to across restarts: only what this start wrote says how it went.
  const logStart = existsSync(logFile) ? statSync(logFile).size : 0
  const pid = startDetached(spec)
  await waitUntilListening(options, { spec, pid, logFile, logStart })
}

export const stopDnsmasq = (options: DnsmasqOptions) => stopDetached(dnsmasqSpec(options))

/** Folders within two levels of `stateDir` holding a dnsmasq pid record (`<lab>/pihole-1`, `<dir>/<homelab>/pihole-2`). */
export function dnsmasqRecordDirs(stateDir: string): string[] {
  const subdirs = (dir: string) => existsSync(dir)
    ? readdirSync(dir, { withFileTypes: true }).filter((e) => e.isDirectory()).map((e) => join(dir, e.name)).sort()
    : []
  const candidates = subdirs(stateDir).flatMap((dir) => [dir, ...subdirs(dir)])
  return candidates.filter((dir) => existsSync(processFiles(dir, 'dnsmasq').pidFile))
}

/**
 * Stops every dnsmasq a Pi-hole double started under `stateDir`: it runs detached, so a demo or test that was killed
 * leaves it holding its address (the next start fails with "Address already in use"). Only a pid whose argv still
 * holds that folder's hosts file is stopped. Returns `dnsmasq <folder>` for each one that ran.
 */
export async function stopDnsmasqsUnder(stateDir: string): Promise<string[]> {
  const stopped: string[] = []
  for (const dir of dnsmasqRecordDirs(stateDir)) {
    // The program and the hosts-file marker identify it; address and port play no part in stopping.
    if (await stopDetached(dnsmasqSpec({ stateDir: dir, address: '', port: 0 }))) stopped.push(`dnsmasq ${relative(stateDir, dir)}`)
  }
  return stopped
}

export async function restartDnsmasq(options: DnsmasqOptions): Promise<void> {
  await startDnsmasq(options)
}

/** SIGHUP re-reads addn-hosts; returns once the log shows the re-read, so a query right after sees the change. */
export async function reloadDnsmasqHosts(options: DnsmasqOptions): Promise<void> {
  const spec = dnsmasqSpec(options)
  const state = detachedProcessState(spec)
  if (!state.alive || state.pid === undefined) return startDnsmasq(options)
  const { hostsFile } = dnsmasqFiles(options.stateDir)
  const reads = () => countReads(state.logFile, hostsFile)
  const before = reads()
  process.kill(state.pid, 'SIGHUP')
  for (const deadline = Date.now() + 3000; reads() === before; await sleep(20)) {
    if (Date.now() > deadline) throw new LabStateError(`dnsmasq did not re-read ${hostsFile} after SIGHUP`, { path: state.logFile })
  }
}

function countReads(logFile: string, hostsFile: string): number {
  if (!existsSync(logFile)) return 0
  return readFileSync(logFile, 'utf8').split(`read ${hostsFile} `).length - 1
}

type StartedDnsmasq = { spec: DetachedProcessSpec; pid: number; logFile: string; logStart: number }

/**
 * An answer alone proves nothing: another dnsmasq on the same address and port answers too, while ours exits with
 * "Address already in use". Ours logs `dnsmasq[<pid>]: started` only once its sockets are bound, and must still live.
 */
async function waitUntilListening(options: DnsmasqOptions, started: StartedDnsmasq): Promise<void> {
  const where = `${options.address}:${options.port}`
  const resolver = new Resolver({ timeout: 200, tries: 1 })
  resolver.setServers([where])
  for (const deadline = Date.now() + 5000; ; await sleep(50)) {
    const log = logSince(started.logFile, started.logStart)
    const alive = detachedProcessState(started.spec).alive
    if (alive && log.includes(`dnsmasq[${started.pid}]: started`) && (await answers(resolver))) return
    const inUse = /^.*Address already in use.*$/m.exec(log)?.[0]
    if (inUse) {
      throw new LabStateError(`dnsmasq cannot listen on ${where}: another process holds that address (${inUse.trim()})`, {
        host: where, path: started.logFile, hint: `stop what holds ${where} (\`ss -lunp 'sport = ${options.port}'\` names it), or give this Pi-hole double its own ip`,
      })
    }
    if (!alive || Date.now() > deadline) throw new LabStateError(`dnsmasq on ${where} did not start:\n${logTail(started.logFile)}`, { host: where, path: started.logFile })
  }
}

function logSince(logFile: string, offset: number): string {
  if (!existsSync(logFile)) return ''
  return readFileSync(logFile).subarray(offset).toString('utf8')
}

/** Any DNS answer, even REFUSED for an unknown name, means the server is up. */
async function answers(resolver: Resolver): Promise<boolean> {
  try {
    await resolver.resolve4('probe.lab.invalid')
    return true
  } catch (error) {
    const code = (error as NodeJS.ErrnoException).code
    return code !== 'ECONNREFUSED' && code !== 'ETIMEOUT'
  }
}
