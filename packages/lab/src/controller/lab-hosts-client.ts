import { spawn } from 'node:child_process'
import { chmodSync, mkdtempSync, rmSync, writeFileSync } from 'node:fs'
import { tmpdir } from 'node:os'
import { join } from 'node:path'
import { LabCommandError } from '../errors/lab-command-error.js'
import type { LabSecret } from '../lab-secret.js'
import type { ProgramResult } from '../run-program.js'

export type LabHostsOptions = {
  /** Names the client must resolve, e.g. `{ 'registry.homelab.local': '127.0.2.1' }`. */
  hosts: Readonly<Record<string, string>>
  /** Written to the program's stdin (a password for `htpasswd -i`, never argv). */
  stdin?: string | LabSecret
  /** Resolve with the exit code instead of throwing when it is not 0. */
  allowFailure?: boolean
  env?: Readonly<Record<string, string>>
}

const NAME = /^[a-z0-9]([a-z0-9.-]*[a-z0-9])?$/i
const IPV4 = /^\d{1,3}(\.\d{1,3}){3}$/

/** Pure. An /etc/hosts with localhost and the given names; refuses anything that is not a plain name and IPv4 address. */
export function hostsFileFor(hosts: Readonly<Record<string, string>>): string {
  const lines = ['127.0.0.1\tlocalhost', '::1\tlocalhost ip6-localhost ip6-loopback']
  for (const [name, ip] of Object.entries(hosts).sort(([a], [b]) => a.localeCompare(b))) {
    if (!NAME.test(name) || !IPV4.test(ip)) throw new TypeError(`runWithLabHosts: "${name}" → "${ip}" is not a host name and an IPv4 address`)
    lines.push(`${ip}\t${name}`)
  }
  return `${lines.join('\n')}\n`
}

/**
 * Runs a real client (skopeo, curl, …) in its own mount namespace whose /etc/hosts maps the homelab names to lab
 * addresses: `registry.homelab.local` resolves to the lab's Traefik without touching the host's /etc/hosts.
 * Credentials go in files or stdin, never in `argv`.
 */
export async function runWithLabHosts(argv: readonly string[], options: LabHostsOptions): Promise<ProgramResult> {
  const dir = mkdtempSync(join(tmpdir(), 'lab-hosts-'))
  const hostsFile = join(dir, 'hosts')
  writeFileSync(hostsFile, hostsFileFor(options.hosts), { mode: 0o644 })
  try {
    return await new Promise<ProgramResult>((resolve, reject) => {
      // The hosts file travels as "$1", the client's argv as the rest: nothing is ever parsed by the shell.
      const script = 'mount --bind "$1" /etc/hosts && shift && exec "$@"'
      const child = spawn('unshare', ['-m', '--propagation', 'private', 'sh', '-c', script, 'sh', hostsFile, ...argv], {
        stdio: ['pipe', 'pipe', 'pipe'], env: { ...process.env, ...options.env },
      })
      let stdout = ''
      let stderr = ''
      child.stdout.on('data', (chunk: Buffer) => (stdout += chunk.toString()))
      child.stderr.on('data', (chunk: Buffer) => (stderr += chunk.toString()))
      child.on('error', (error) => reject(new LabCommandError(`${argv[0]} could not start`, { argv, exitCode: null, outputTail: '', cause: error, hint: 'is util-linux (unshare) installed?' })))
      child.on('close', (code) => {
        if (code === 0 || options.allowFailure) return resolve({ code: code ?? -1, stdout, stderr })
        const tail = (stderr || stdout).trimEnd().split('\n').slice(-20).join('\n')
        reject(new LabCommandError(`${argv.join(' ')} exited with code ${code}:\n${tail}`, { argv, exitCode: code, outputTail: tail }))
      })
      const input = options.stdin
      child.stdin.end(input === undefined ? undefined : typeof input === 'string' ? input : input.reveal())
    })
  } finally {
    rmSync(dir, { recursive: true, force: true })
  }
}

/** A registry auth file (containers-auth.json(5)) for `skopeo --authfile`, written 0600: credentials never on argv. */
export function writeRegistryAuthFile(path: string, registry: string, username: string, password: string | LabSecret): string {
  const secret = typeof password === 'string' ? password : password.reveal()
  const auth = Buffer.from(`${username}:${secret}`).toString('base64')
  writeFileSync(path, `${JSON.stringify({ auths: { [registry]: { auth } } }, null, 2)}\n`, { mode: 0o600 })
  chmodSync(path, 0o600) // the mode above applies only to a new file
  return path
}
