// Ctrl-C at a chosen moment: a task script runs as its own process and gets SIGINT once `when` holds, judged on its
// output so far and, every 2 ms, on whatever else the test watches (a temp file on a node, a Pi-hole's request log).
import { spawn } from 'node:child_process'
import { tmpdir } from 'node:os'
import { repoRoot } from '@homelab/lab'
import * as assert from 'uvu/assert'
import type { LeakScan } from './leak-scan.js'
import { hasStackTrace, spawnTask, type ChildRun } from './tool-run.js'

export type InterruptedRun = ChildRun & { sent: boolean }

export type InterruptOptions = { env?: Record<string, string>; scan: LeakScan; when: (output: string) => boolean }

export async function interruptTask(script: string, argv: string[], options: InterruptOptions): Promise<InterruptedRun> {
  let sent = false
  let output = ''
  let child: ReturnType<typeof spawn> | undefined
  const strike = () => {
    if (sent || !child || child.exitCode !== null || !options.when(output)) return
    sent = true
    child.kill('SIGINT')
  }
  const poll = setInterval(strike, 2)
  try {
    const run = await spawnTask(script, argv, {
      ...(options.env ? { env: options.env } : {}),
      scan: options.scan,
      onOutput: (printed, spawned) => {
        output = printed
        child = spawned
        strike()
      },
    })
    return { ...run, sent }
  } finally {
    clearInterval(poll)
  }
}

/**
 * The same on a terminal (util-linux `script` gives the task a pty), for what only happens there: the gc confirmation
 * prompt. Ctrl-C is typed (\x03 through the pty), so the terminal's own interrupt path is what is tested.
 */
export function interruptOnTerminal(script: string, argv: string[], options: InterruptOptions): Promise<InterruptedRun> {
  const command = ['node', '--import', 'tsx', script, ...argv].map((a) => `'${a.replaceAll("'", `'\\''`)}'`).join(' ')
  return new Promise((resolve, reject) => {
    const child = spawn('script', ['-qfec', command, '/dev/null'], {
      cwd: repoRoot(),
      env: { PATH: process.env['PATH'] ?? '/usr/bin:/bin', HOME: tmpdir(), TERM: 'dumb', ...options.env },
      stdio: ['pipe', 'pipe', 'pipe'],
    })
    let output = ''
    let sent = false
    const collect = (d: Buffer) => {
      output += d.toString()
      if (!sent && options.when(output)) {
        sent = true
        child.stdin.write('\x03')
      }
    }
    child.stdout.on('data', collect)
    child.stderr.on('data', collect)
    child.on('error', reject)
    child.on('close', (code, signal) => {
      options.scan.scanText(`${script} on a terminal`, output)
      // The pty turns \n into \r\n.
      const text = output.replaceAll('\r\n', '\n')
      resolve({ code: code ?? -1, signal, stdout: text, stderr: '', output: text, sent })
    })
  })
}

/** What every interrupted run promises at its edge: exit 130, a line saying so and to run again, no stack trace. */
export function assertInterrupted(run: InterruptedRun): void {
  assert.ok(run.sent, `SIGINT was never sent:\n${run.output}`)
  assert.is(run.code, 130, `an interrupted run must not exit as if it were done:\n${run.output}`)
  assert.match(run.output, /interrupted: the steps not yet started were skipped; run it again to finish/)
  assert.not.ok(hasStackTrace(run.output), `a stack trace instead of a message:\n${run.output}`)
}
