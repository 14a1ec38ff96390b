import type { Client, SFTPWrapper } from 'ssh2'
import { SshError } from '../errors/ssh-error.js'
import type { WriteFileAtomicOptions } from './remote-file-names.js'
import { sftpReadFile, sftpWriteFileAtomic } from './sftp-file.js'
import { shellJoin } from './shell-quote.js'
import { MISSING_EXIT_CODE, readFileCommand, SHORT_INPUT_EXIT_CODE, writeFileAtomicCommand } from './sudo-file.js'
import { resolveSudoMode, sudoPrefix, sudoStdin, type RawResult, type SudoMode } from './sudo-access.js'
import { KEEPALIVE_COUNT_MAX, portOf, type SshTarget } from './ssh-target.js'

const firstWord = (command: string): string => command.split(' ', 1)[0] ?? command

export type ExecOptions = { stdin?: string | Buffer; sudo?: boolean }
export type ExecResult = { stdout: string; stderr: string; code: number | null; signal: string | undefined }

/**
 * One authenticated connection to one node. Commands, SFTP and sudo checks all share it; get it from `SshPool`.
 * File access goes through SFTP when we are root (or sudo is off) and through `sudo sh -c` otherwise.
 */
export class SshSession {
  readonly target: SshTarget
  readonly #client: Client
  #sftp: Promise<SFTPWrapper> | undefined
  #sudoMode: Promise<SudoMode> | undefined
  #closed = false
  #lostBecause: Error | undefined

  constructor(target: SshTarget, client: Client) {
    this.target = target
    this.#client = client
    client.once('close', () => {
      this.#closed = true
    })
    // After the handshake an 'error' without a listener would crash the whole run; keep it as the reason instead,
    // and let the pool reconnect on the next session() call.
    client.on('error', (error) => {
      this.#lostBecause = error
      this.#closed = true
    })
  }

  get host(): string {
    return this.target.host
  }

  get closed(): boolean {
    return this.#closed
  }

  /** Runs argv (each argument shell-quoted) and resolves with its output and exit code; a non-zero code is not an error. */
  async exec(argv: readonly string[], options: ExecOptions = {}): Promise<ExecResult> {
    const stdin = typeof options.stdin === 'string' ? Buffer.from(options.stdin) : options.stdin
    const result = await this.#runAsRoot(shellJoin(argv), stdin, options.sudo ?? this.#usesSudo())
    return { stdout: result.stdout.toString(), stderr: result.stderr.toString(), code: result.code, signal: result.signal }
  }

  /** The file's bytes, or undefined when it does not exist. Read as root (SFTP as root, or `sudo cat`). */
  async readFile(path: string): Promise<Buffer | undefined> {
    if (!this.#usesSudo()) return sftpReadFile(await this.#sftpChannel(), this.host, path)
    const result = await this.#runAsRoot(readFileCommand(path), undefined, true)
    if (result.code === 0) return result.stdout
    if (result.code === MISSING_EXIT_CODE) return undefined
    throw this.#fileError(`reading ${path}`, path, result)
  }

  /** Replaces `path` atomically (temp file in the same directory, fsync, chmod, rename), keeping backups if asked. */
  async writeFileAtomic(path: string, data: string | Buffer, options: WriteFileAtomicOptions = {}): Promise<void> {
    const bytes = typeof data === 'string' ? Buffer.from(data) : data
    if (!this.#usesSudo()) return sftpWriteFileAtomic(await this.#sftpChannel(), this.host, path, bytes, options)
    const { command, stdin } = writeFileAtomicCommand(path, bytes, options)
    const result = await this.#runAsRoot(command, stdin, true)
    if (result.code !== 0) throw this.#fileError(`writing ${path}`, path, result)
  }

  close(): void {
    this.#client.end()
  }

  #usesSudo(): boolean {
    return (this.target.sudo ?? false) && this.target.user !== 'root'
  }

  async #runAsRoot(command: string, stdin: Buffer | undefined, sudo: boolean): Promise<RawResult> {
    // root needs no sudo, and a node without sudo installed must still work for root.
    if (!sudo || this.target.user === 'root') return this.#run(command, stdin)
    this.#sudoMode ??= resolveSudoMode(this.target, (c, s) => this.#run(c, s))
    // A failed check must not be cached: the next call should report it again, not hang on a rejected promise.
    const mode = await this.#sudoMode.catch((error: unknown) => {
      this.#sudoMode = undefined
      throw error
    })
    return this.#run(`${sudoPrefix(mode)} ${command}`, sudoStdin(mode, this.target.sudoPassword, stdin), `sudo ${firstWord(command)}`)
  }

  #run(command: string, stdin: Buffer | undefined, what = firstWord(command)): Promise<RawResult> {
    return new Promise((resolve, reject) => {
      this.#client.exec(command, (error, channel) => {
        if (error) return reject(this.#error(`cannot start ${what}`, error))
        const stdout: Buffer[] = []
        const stderr: Buffer[] = []
        channel.on('data', (chunk: Buffer) => stdout.push(chunk))
        channel.stderr.on('data', (chunk: Buffer) => stderr.push(chunk))
        channel.once('close', (code: number | null | undefined, signal: string | undefined) => {
          if (code === undefined && signal === undefined && this.#closed) return reject(this.#error(`connection lost while running ${what}`, this.#lostBecause, this.#lostHint()))
          resolve({ stdout: Buffer.concat(stdout), stderr: Buffer.concat(stderr), code: code ?? null, signal: signal ?? undefined })
        })
        // Always end stdin, so a command that reads it (cat, sh -c) never waits for more.
        channel.end(stdin)
      })
    })
  }

  #sftpChannel(): Promise<SFTPWrapper> {
    this.#sftp ??= new Promise((resolve, reject) => {
      this.#client.sftp((error, sftp) => {
        if (error) {
          this.#sftp = undefined
          return reject(this.#error('cannot open the SFTP subsystem', error, 'check that sshd_config has a Subsystem sftp line'))
        }
        resolve(sftp)
      })
    })
    return this.#sftp
  }

  #fileError(what: string, path: string, result: RawResult): SshError {
    const stderr = result.stderr.toString().trim()
    const hint = result.code === SHORT_INPUT_EXIT_CODE ? 'the connection dropped mid-transfer; run again' : undefined
    return new SshError(`${this.#where()}: ${what} as root failed (exit ${result.code ?? result.signal}): ${stderr || 'no message'}`, {
      host: this.host,
      path,
      hint,
    })
  }

  #lostHint(): string | undefined {
    if ((this.#lostBecause as { level?: string } | undefined)?.level !== 'client-timeout') return undefined
    return `the node stopped answering (${KEEPALIVE_COUNT_MAX} keepalives unanswered); check that it is up and reachable, then run again`
  }

  #error(what: string, cause?: unknown, hint?: string): SshError {
    return new SshError(`${this.#where()}: ${what}`, { host: this.host, cause, hint })
  }

  #where(): string {
    return `${this.target.user}@${this.host}:${portOf(this.target)}`
  }
}
