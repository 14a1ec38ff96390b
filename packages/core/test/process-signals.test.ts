import { spawn } from 'node:child_process'
import { existsSync, mkdtempSync } from 'node:fs'
import { tmpdir } from 'node:os'
import { join } from 'node:path'
import { suite } from 'uvu'
import * as assert from 'uvu/assert'
import { EXIT } from '../src/index.js'

const Signals = suite('signals reaching a task process')

const TASK = join(import.meta.dirname, 'fixtures', 'signal-task.ts')

type SignalRun = { code: number | null; killedBy: NodeJS.Signals | null; output: string; cleanedUp: boolean }

/**
 * Runs the fixture task and, once it waits, sends `signals`; with `hangUp` the reading ends of its stdout and stderr
 * are closed too, as when the SSH session carrying the terminal drops. The cleanup leaves a file to be seen by.
 */
function runAndSignal(signals: NodeJS.Signals[], hangUp = false): Promise<SignalRun> {
  const marker = join(mkdtempSync(join(tmpdir(), 'signal-task-')), 'cleanup')
  return new Promise((resolve, reject) => {
    const child = spawn(process.execPath, ['--import', 'tsx', TASK], { stdio: ['ignore', 'pipe', 'pipe'], env: { ...process.env, SIGNAL_TASK_MARKER: marker } })
    let output = ''
    let sent = false
    const timer = setTimeout(() => child.kill('SIGKILL'), 20_000)
    const collect = (d: Buffer) => {
      output += d.toString()
      if (sent || !output.includes('waiting for a signal')) return
      sent = true
      for (const signal of signals) child.kill(signal)
      if (hangUp) for (const stream of [child.stdout, child.stderr]) stream.destroy()
    }
    child.stdout.on('data', collect)
    child.stderr.on('data', collect)
    child.on('error', reject)
    child.on('close', (code, killedBy) => {
      clearTimeout(timer)
      resolve({ code, killedBy, output, cleanedUp: existsSync(marker) })
    })
  })
}

// SIGHUP is what a dropped SSH session sends: without a handler Node exits at once and no `finally` runs.
for (const signal of ['SIGINT', 'SIGTERM', 'SIGHUP'] as const) {
  Signals(`${signal} stops the run like Ctrl-C: the cleanup runs, the rest is skipped, exit 130 saying to run again`, async () => {
    const run = await runAndSignal([signal])
    assert.is(run.killedBy, null, `killed by ${run.killedBy}, no cleanup:\n${run.output}`)
    assert.is(run.code, EXIT.interrupted, run.output)
    assert.ok(run.cleanedUp, run.output)
    assert.match(run.output, /cleanup ran/)
    assert.match(run.output, /skipped\s+after the signal: interrupted/)
    assert.match(run.output, /interrupted: .*run it again/)
  })
}

Signals('SIGHUP with the terminal gone, delivered twice: the cleanup still runs to its end and the exit is 130', async () => {
  const run = await runAndSignal(['SIGHUP', 'SIGHUP'], true)
  assert.is(run.killedBy, null, `killed by ${run.killedBy}`)
  assert.ok(run.cleanedUp, 'the finally did not finish: a failed write to the closed terminal ended the process')
  assert.is(run.code, EXIT.interrupted)
})

Signals.run()
