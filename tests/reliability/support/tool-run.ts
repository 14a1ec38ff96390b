// Runs the tool at its CLI edge (runTask / runComponentTask with a captured io, or a task script as a child process)
// and hands back exit code and output; every byte printed goes through the leak scan.
import { spawn } from 'node:child_process'
import { mkdtempSync, writeFileSync } from 'node:fs'
import { tmpdir } from 'node:os'
import { join } from 'node:path'
import { runComponentTask, type Component, type ComponentVerb, type TaskIo } from '@homelab/core'
import { repoRoot } from '@homelab/lab'
import type { LeakScan } from './leak-scan.js'

export type ToolRun = { code: number; stdout: string; stderr: string; output: string }

export type IoRunOptions = {
  argv: string[]
  env?: Record<string, string | undefined>
  scan: LeakScan
  label: string
  signal?: AbortSignal
  /** Called with everything printed so far, after each write: how a test waits for a phase before striking. */
  onOutput?: (output: string) => void
}

/** Any task entry point that takes a TaskIo (runDnsTask, usersTask, runComponentTask…). */
export async function runWithIo(options: IoRunOptions, task: (io: TaskIo) => Promise<number>): Promise<ToolRun> {
  let stdout = ''
  let stderr = ''
  let output = ''
  const io: TaskIo = {
    argv: options.argv,
    env: { HOME: tmpdir(), ...options.env },
    cwd: tmpdir(),
    stdout: { write: (s: string) => void ((stdout += s), (output += s), options.onOutput?.(output)) },
    stderr: { write: (s: string) => void ((stderr += s), (output += s), options.onOutput?.(output)) },
    signal: options.signal ?? new AbortController().signal,
  }
  const code = await task(io)
  options.scan.scanText(`${options.label} output`, output)
  return { code, stdout, stderr, output }
}

export type ComponentRunOptions = Omit<IoRunOptions, 'argv' | 'label'> & { configPath: string; args?: string[]; label?: string }

export function runComponents(components: readonly Component[], verb: ComponentVerb, options: ComponentRunOptions): Promise<ToolRun> {
  const label = options.label ?? `${components.map((c) => c.name).join('+')} ${verb}`
  return runWithIo({ ...options, label, argv: ['--config', options.configPath, ...(options.args ?? [])] }, (io) => runComponentTask(components, verb, io))
}

export type ChildRun = ToolRun & { signal: NodeJS.Signals | null }

/** A task script (`packages/registry/tasks/bootstrap.ts`) as its own process: how signals and exit codes are really seen. */
export function spawnTask(script: string, argv: string[], options: { env?: Record<string, string>; scan: LeakScan; onOutput?: (output: string, child: ReturnType<typeof spawn>) => void }): Promise<ChildRun> {
  return new Promise((resolve, reject) => {
    // From the repo, where `--import tsx` resolves; the task reads only the config it is given.
    const child = spawn(process.execPath, ['--import', 'tsx', script, ...argv], {
      cwd: repoRoot(),
      env: { PATH: process.env['PATH'] ?? '/usr/bin:/bin', HOME: tmpdir(), ...options.env },
      stdio: ['ignore', 'pipe', 'pipe'],
    })
    let stdout = ''
    let stderr = ''
    child.stdout.on('data', (d: Buffer) => {
      stdout += d.toString()
      options.onOutput?.(stdout + stderr, child)
    })
    child.stderr.on('data', (d: Buffer) => (stderr += d.toString()))
    child.on('error', reject)
    child.on('close', (code, signal) => {
      options.scan.scanText(`${script} output`, stdout + stderr)
      resolve({ code: code ?? -1, signal, stdout, stderr, output: stdout + stderr })
    })
  })
}

/** A homelab.yaml in a fresh 0700 folder; JSON is YAML, so no YAML library is needed. Returns its path. */
export function writeConfigFile(config: Record<string, unknown>, name = 'homelab.yaml'): string {
  const dir = mkdtempSync(join(tmpdir(), 'reliability-config-'))
  const path = join(dir, name)
  writeFileSync(path, `${JSON.stringify(config, null, 2)}\n`, { mode: 0o600 })
  return path
}

/** The recap numbers of one component's run, read from the text the reporter printed. */
export function recapOf(output: string, title: string): { ok: number; changed: number; failed: number; skipped: number } | undefined {
  const match = new RegExp(`recap ${title}: ok=(\\d+) changed=(\\d+) failed=(\\d+) skipped=(\\d+)`).exec(output)
  if (!match) return undefined
  const [, ok, changed, failed, skipped] = match.map(Number)
  return { ok: ok!, changed: changed!, failed: failed!, skipped: skipped! }
}

/** The names of the steps a run reported `changed`, in order. */
export const changedSteps = (output: string) => [...output.matchAll(/^changed\s+(.+)$/gm)].map((m) => m[1]!)

/** A message fit for a person: no stack frames printed in place of the explanation. */
export const hasStackTrace = (text: string) => /\n\s+at .+\(.*:\d+:\d+\)|\n\s+at (async )?[\w.<>]+ \(file:/.test(text)
