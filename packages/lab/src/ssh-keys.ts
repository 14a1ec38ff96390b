import { existsSync, readFileSync } from 'node:fs'
import { runProgram, type RunProgram } from './run-program.js'

/**
 * An ed25519 key pair made by the real ssh-keygen, without a passphrase (the lab's keys guard nothing but loopback).
 * Kept when it exists, so host keys, and therefore known_hosts, stay the same across lab restarts.
 */
export async function ensureEd25519Key(privateKeyPath: string, comment: string, run: RunProgram = runProgram): Promise<string> {
  if (!existsSync(privateKeyPath)) {
    await run(['ssh-keygen', '-q', '-t', 'ed25519', '-N', '', '-C', comment, '-f', privateKeyPath], {
      hint: 'is openssh-client installed?',
    })
  }
  return publicKeyLine(privateKeyPath)
}

/** `ssh-ed25519 AAAA… comment` from the `.pub` next to the private key. */
export function publicKeyLine(privateKeyPath: string): string {
  return readFileSync(`${privateKeyPath}.pub`, 'utf8').trim()
}

/** `type base64` without the comment: the part known_hosts and authorized_keys compare. */
export function publicKeyFields(line: string): string {
  return line.split(/\s+/).slice(0, 2).join(' ')
}
