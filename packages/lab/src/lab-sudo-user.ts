import { spawn } from 'node:child_process'
import { randomBytes } from 'node:crypto'
import { existsSync, mkdirSync, readFileSync, renameSync, rmSync, writeFileSync } from 'node:fs'
import { join } from 'node:path'
import { LabSecret } from './lab-secret.js'
import { LabCommandError } from './errors/lab-command-error.js'
import { runProgram, type RunProgram } from './run-program.js'

export const LAB_SUDO_USER = 'homelab-lab'
const SUDOERS_FILE = `/etc/sudoers.d/${LAB_SUDO_USER}`

export type LabSudoUser = { name: string; password: LabSecret }

/** The password is kept under the state folder so a restarted lab hands tests the same one it set. */
function labUserPassword(sshDir: string): LabSecret {
  const file = join(sshDir, `${LAB_SUDO_USER}.password`)
  if (!existsSync(file)) writeFileSync(file, randomBytes(18).toString('base64url'), { mode: 0o600 })
  return new LabSecret(readFileSync(file, 'utf8').trim())
}

/** chpasswd reads `user:password` on stdin: the password never appears in any process's argv. */
function setPassword(name: string, password: LabSecret): Promise<void> {
  return new Promise((resolve, reject) => {
    const child = spawn('chpasswd', [], { stdio: ['pipe', 'ignore', 'pipe'] })
    let stderr = ''
    child.stderr.on('data', (chunk: Buffer) => (stderr += chunk.toString()))
    child.on('error', (error) => reject(new LabCommandError('chpasswd could not start', { argv: ['chpasswd'], exitCode: null, outputTail: '', cause: error })))
    child.on('close', (code) => {
      if (code === 0) return resolve()
      reject(new LabCommandError(`chpasswd exited with code ${code} while setting ${name}'s password`, { argv: ['chpasswd'], exitCode: code, outputTail: stderr.trim() }))
    })
    child.stdin.end(`${name}:${password.reveal()}\n`)
  })
}

/** visudo checks the drop-in before it goes live: a broken sudoers file would lock root out of sudo too. */
async function installSudoersDropIn(run: RunProgram): Promise<void> {
  const text = `# homelab-devtools lab: sudo with a password, for the SSH sudo tests\nDefaults:${LAB_SUDO_USER} lecture=never\n${LAB_SUDO_USER} ALL=(ALL) ALL\n`
  if (existsSync(SUDOERS_FILE) && readFileSync(SUDOERS_FILE, 'utf8') === text) return
  const temp = `${SUDOERS_FILE}.homelab-tmp`
  writeFileSync(temp, text, { mode: 0o440 })
  try {
    await run(['visudo', '-c', '-q', '-f', temp], { hint: 'is sudo installed?' })
    renameSync(temp, SUDOERS_FILE)
  } finally {
    rmSync(temp, { force: true })
  }
}

/**
 * A system user that may sudo only with its password, with the lab client key authorised on every node
 * (`authorized_keys/<user>` in each node folder). Idempotent: an existing user is kept, its password re-set.
 */
export async function ensureLabSudoUser(sshDir: string, run: RunProgram = runProgram): Promise<LabSudoUser> {
  mkdirSync(sshDir, { recursive: true, mode: 0o700 })
  const exists = await run(['id', '-u', LAB_SUDO_USER], { allowFailure: true })
  if (exists.code !== 0) {
    // No home: sshd only warns that it cannot chdir, and nothing of the lab's is left in /home.
    await run(['useradd', '--system', '--shell', '/bin/sh', '--home-dir', '/nonexistent', '--no-create-home', LAB_SUDO_USER])
  }
  const password = labUserPassword(sshDir)
  // sshd without PAM refuses accounts whose password is locked (`!`), which a fresh useradd leaves.
  await setPassword(LAB_SUDO_USER, password)
  await installSudoersDropIn(run)
  return { name: LAB_SUDO_USER, password }
}
