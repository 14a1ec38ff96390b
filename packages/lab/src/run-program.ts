import { spawn } from 'node:child_process'
import { openSync, closeSync, readFileSync } from 'node:fs'
import { LabCommandError } from './errors/lab-command-error.js'

export type ProgramResult = { code: number; stdout: string; stderr: string }

export type RunProgramOptions = {
  cwd?: string
  /** Append stdout and stderr to this file instead of capturing them (long builds). */
  logFile?: string
  /** Resolve with the exit code instead of throwing when it is not 0. */
  allowFailure?: boolean
  /** What the user can do when it fails; appended to the error message. */
  hint?: string
}

/**
 * Runs one program from an argv array (never a shell string) with the caller's environment; extra variables go
 * through `env NAME=value program …` in argv. Swappable so tests can record the calls.
 */
export type RunProgram = (argv: readonly string[], options?: RunProgramOptions) => Promise<ProgramResult>

const TAIL_LINES = 20

export function tailOf(text: string, lines = TAIL_LINES): string {
  return text.trimEnd().split('\n').slice(-lines).join('\n')
}

export const runProgram: RunProgram = (argv, options = {}) =>
  new Promise((resolvePromise, reject) => {
    const [command, ...args] = argv
    if (command === undefined) throw new TypeError('runProgram needs a command')
    const logFd = options.logFile === undefined ? undefined : openSync(options.logFile, 'a')
    const child = spawn(command, args, {
      cwd: options.cwd,
      stdio: ['ignore', logFd ?? 'pipe', logFd ?? 'pipe'],
    })
    // The child holds its own copy of the log descriptor from here on.
    if (logFd !== undefined) closeSync(logFd)
    let stdout = ''
    let stderr = ''
    child.stdout?.on('data', (chunk: Buffer) => (stdout += chunk.toString()))
    child.stderr?.on('data', (chunk: Buffer) => (stderr += chunk.toString()))
    const fail = (code: number | null, outputTail: string, cause?: unknown) =>
      new LabCommandError(`${argv.join(' ')} ${cause ? 'could not start' : `exited with code ${code}`}${outputTail ? `:\n${outputTail}` : ''}`, {
        argv, exitCode: code, outputTail, cause, hint: options.hint, ...(options.logFile ? { path: options.logFile } : {}),
      })
    child.on('error', (error) => {
      reject(fail(null, '', error))
    })
    child.on('close', (code) => {
      if (code === 0 || options.allowFailure) return resolvePromise({ code: code ?? -1, stdout, stderr })
      const output = options.logFile ? readFileSync(options.logFile, 'utf8') : stderr || stdout
      reject(fail(code, tailOf(output)))
    })
  })
