import { SshError } from '../errors/ssh-error.js'
import type { Secret } from '../secret.js'
import { configKeyOf, type SshTarget } from './ssh-target.js'

export type SudoMode = 'passwordless' | 'password'

export type RawResult = { stdout: Buffer; stderr: Buffer; code: number | null; signal: string | undefined }
export type RunRaw = (command: string, stdin?: Buffer) => Promise<RawResult>

/*
 * `-k` makes sudo ignore cached credentials, so a password sudo needs is always read from stdin: otherwise a cached
 * ticket would leave the password line unread and the command would receive it as data. `-p ''` keeps the prompt
 * out of stderr. sudo reads the password byte by byte up to the newline, so the rest of stdin reaches the command.
 */
export const SUDO_WITH_PASSWORD = "sudo -k -S -p '' --"
export const SUDO_WITHOUT_PASSWORD = 'sudo -n --'

export const sudoPrefix = (mode: SudoMode): string => (mode === 'password' ? SUDO_WITH_PASSWORD : SUDO_WITHOUT_PASSWORD)

/** stdin for a sudo command: the password line first when sudo asks for one, then the command's own input. */
export function sudoStdin(mode: SudoMode, password: Secret | undefined, data: Buffer | undefined): Buffer | undefined {
  if (mode === 'passwordless' || password === undefined) return data
  const line = Buffer.from(`${password.reveal()}\n`)
  return data === undefined ? line : Buffer.concat([line, data])
}

/**
 * Finds out once per connection whether sudo wants a password, and checks that password with a command that reads no
 * data: a wrong password checked together with a write would make sudo read the file's next lines as new attempts.
 */
export async function resolveSudoMode(target: SshTarget, run: RunRaw): Promise<SudoMode> {
  const probe = await run('sudo -k -n -- true')
  if (probe.code === 0) return 'passwordless'
  const stderr = probe.stderr.toString()
  if (probe.code === 127 || /command not found/.test(stderr)) throw sudoError(target, 'sudo is not installed on the node', 'install it, or connect as root')
  if (target.sudoPassword === undefined) {
    throw sudoError(target, 'sudo needs a password and none is configured', `set ${configKeyOf(target)}.sudoPassword, or allow NOPASSWD for ${target.user}`)
  }
  const check = await run(`${SUDO_WITH_PASSWORD} true`, sudoStdin('password', target.sudoPassword, undefined))
  if (check.code === 0) return 'password'
  throw sudoRefusal(target, check.stderr.toString())
}

function sudoRefusal(target: SshTarget, stderr: string): SshError {
  const key = configKeyOf(target)
  if (/incorrect password|Sorry, try again|authentication failure/i.test(stderr)) {
    return sudoError(target, 'the sudo password was rejected', `check ${key}.sudoPassword`)
  }
  if (/not in the sudoers|not allowed to/i.test(stderr)) {
    return sudoError(target, `${target.user} may not use sudo on this node`, `add a sudoers rule for ${target.user} or connect as root`)
  }
  return sudoError(target, `sudo failed: ${stderr.trim() || 'no message'}`, `check ${key}.user and ${key}.sudoPassword`)
}

function sudoError(target: SshTarget, what: string, hint: string): SshError {
  return new SshError(`${target.user}@${target.host}: ${what}`, { host: target.host, hint })
}
