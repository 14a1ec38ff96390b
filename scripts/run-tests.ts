// Runs every test file in its own process (a file's lab servers and globals stay its own), against one lab brought up
// once for the whole run, and ends with the line CI reads: `N passed, N failed`.
import { spawn, type ChildProcess } from 'node:child_process'
import { existsSync, mkdirSync, mkdtempSync, readdirSync, rmSync, symlinkSync } from 'node:fs'
import { tmpdir } from 'node:os'
import { basename, join, relative } from 'node:path'
import { parseArgs } from 'node:util'
import { stopDnsmasqsUnder } from '../packages/lab/src/pihole/pihole-dnsmasq.js'

const root = join(import.meta.dirname, '..')
const { values, positionals } = parseArgs({
  options: { package: { type: 'string', multiple: true }, 'keep-lab': { type: 'boolean', default: false }, 'no-lab': { type: 'boolean', default: false } },
  allowPositionals: true,
})

function testFiles(): string[] {
  const dirs = readdirSync(join(root, 'packages'))
    .filter((p) => !values.package || values.package.includes(p))
    .map((p) => join(root, 'packages', p, 'test'))
  if (!values.package) dirs.push(join(root, 'tasks', 'test'))
  // The reliability suite last: its final file prints the counts across the whole tool.
  if (!values.package) dirs.push(join(root, 'tests', 'reliability'))
  const files = dirs.filter(existsSync).flatMap((d) => readdirSync(d).filter((f) => f.endsWith('.test.ts')).sort().map((f) => join(d, f)))
  return positionals.length ? files.filter((f) => positionals.some((p) => f.includes(p))) : files
}

type Outcome = { file: string; passed: number; failed: number; skipped: number; code: number | null }

/**
 * What an interrupt must clean up: the child running now (a test file or a `lab` command), and whether this run
 * started the lab (the run's temporary folder goes at the end in any case). Ctrl-C used to leave both, and the next run then took the
 * leftover lab for someone else's and never took it down.
 */
const run: { current: ChildProcess | undefined; down: ChildProcess | undefined; startedLab: boolean; interrupted: NodeJS.Signals | undefined } = {
  current: undefined, down: undefined, startedLab: false, interrupted: undefined,
}

/** Resolves with the child's exit code once it closed; until then it is the one an interrupt stops. */
function tracked(child: ChildProcess): Promise<number | null> {
  run.current = child
  return new Promise((resolve) => child.on('close', (code) => {
    if (run.current === child) run.current = undefined
    resolve(code)
  }))
}

function onInterrupt(signal: NodeJS.Signals): void {
  if (run.interrupted) {
    process.stdout.write(`\n${signal} again: still cleaning up after the first one; wait for it\n`)
    return
  }
  run.interrupted = signal
  process.stdout.write(`\n${signal}: stopping the test file or lab command running now (the run's temporary files are removed)${run.startedLab && !values['keep-lab'] ? ', then taking the lab down' : ''}\n`)
  const child = run.current
  // A `lab down` under way is the cleanup itself: stopping it would leave the lab half down for the next run.
  if (!child || child === run.down) return
  child.kill('SIGTERM')
  // A child that ignores SIGTERM must not keep the cleanup (and the run's temporary folder) waiting forever.
  setTimeout(() => run.current === child && child.kill('SIGKILL'), 5_000).unref()
}
process.on('SIGINT', onInterrupt)
process.on('SIGTERM', onInterrupt)

const TMP = tmpdir()
// tsx keeps its transform cache in TMPDIR; a file's own TMPDIR links to the shared one, or each file would transform
// the whole workspace afresh.
const TSX_CACHE = join(TMP, `tsx-${process.geteuid?.() ?? 0}`)

/**
 * One folder for the run, removed when it ends however it ends (an interrupt included): each file gets a TMPDIR of
 * its own inside it, so what tests and the tools they spawn leave in temporary directories (configs, keys, fake Pi-hole
 * state) never piles up in /tmp across runs. The folders stay until the run ends, and the run's folder is handed to
 * every file as HOMELAB_TEST_RUN_DIR: the reliability suite keeps its tally there and scans what other files left.
 */
const RUN_DIR = mkdtempSync(join(TMP, 'homelab-test-run-'))
let fileCount = 0

function ownTmpdir(file: string): string {
  const path = join(RUN_DIR, `${String(++fileCount).padStart(3, '0')}-${basename(file, '.test.ts')}`)
  mkdirSync(path, { mode: 0o700 })
  mkdirSync(TSX_CACHE, { recursive: true })
  symlinkSync(TSX_CACHE, join(path, `tsx-${process.geteuid?.() ?? 0}`))
  return path
}

function removeRunDir(): void {
  try {
    rmSync(RUN_DIR, { recursive: true, force: true, maxRetries: 3 })
  } catch (error) {
    process.stdout.write(`could not remove the test run's folder ${RUN_DIR}: ${(error as Error).message}\n`)
  }
}

function runFile(file: string): Promise<Outcome> {
  return new Promise((resolve) => {
    const tmp = ownTmpdir(file)
    const child = spawn(process.execPath, ['--import', 'tsx', file], { cwd: root, stdio: ['ignore', 'pipe', 'inherit'], env: { ...process.env, TMPDIR: tmp, HOMELAB_TEST_RUN_DIR: RUN_DIR } })
    let out = ''
    child.stdout.on('data', (d: Buffer) => {
      out += d.toString()
      process.stdout.write(d)
    })
    void tracked(child).then(async (code) => {
      // A Pi-hole double's dnsmasq runs detached: one a killed (or leaky) file left would hold its address for good.
      const left = await stopDnsmasqsUnder(tmp).catch(() => [])
      if (left.length > 0) process.stdout.write(`${relative(root, file)} left ${left.join(', ')} running: stopped\n`)
      const num = (label: string) => [...out.matchAll(new RegExp(`${label}:\\s+(\\d+)`, 'g'))].reduce((n, m) => n + Number(m[1]), 0)
      const total = num('Total')
      const passed = num('Passed')
      const skipped = num('Skipped')
      // A file that crashed before uvu's summary, or exited non-zero with every test passed, counts as one failure.
      const failed = Math.max(total - passed - skipped, code === 0 ? 0 : 1)
      // uvu swallows a `before` hook's error: tests that did not run, yet no ✘ and no failure report.
      if (total > passed + skipped && !out.includes('✘')) {
        process.stdout.write(`${relative(root, file)}: ${total - passed - skipped} tests never ran and none failed: a before hook threw; wrap it in reportHookErrors (@homelab/lab) to see why\n`)
      }
      resolve({ file: relative(root, file), passed, failed, skipped, code })
    })
  })
}

async function lab(verb: 'up' | 'down' | 'status'): Promise<number> {
  // `down` in a session of its own: a second Ctrl-C at the terminal must not cut it off halfway.
  const child = spawn(process.execPath, ['--import', 'tsx', join(root, 'packages/lab/tasks/lab.ts'), verb], {
    cwd: root, stdio: verb === 'status' ? 'ignore' : 'inherit', detached: verb === 'down',
  })
  if (verb === 'down') run.down = child
  return (await tracked(child)) ?? 1
}

const files = testFiles()
const useLab = !values['no-lab'] && existsSync(join(root, 'packages/lab/tasks/lab.ts'))
// A lab that was already up belongs to someone else (a demo, another run): use it, and leave it up afterwards.
const labWasUp = useLab && (await lab('status')) === 0
// Started as soon as `up` begins: an `up` interrupted halfway leaves processes for `down` to stop.
run.startedLab = useLab && !labWasUp && !run.interrupted
if (run.startedLab && (await lab('up')) !== 0 && !run.interrupted) {
  process.stdout.write('lab up failed: every test needing the lab will fail\n')
}
const outcomes: Outcome[] = []
for (const file of files) {
  if (run.interrupted) break
  outcomes.push(await runFile(file))
}
// A lab left up would pass for someone else's at the next run, which then never takes it down: say so.
if (run.startedLab && !values['keep-lab'] && (await lab('down')) !== 0) process.stdout.write('lab down failed (its output above): run `pnpm lab down` before the next test run\n')
removeRunDir()

const sum = (k: 'passed' | 'failed' | 'skipped') => outcomes.reduce((n, o) => n + o[k], 0)
process.stdout.write('\n')
for (const o of outcomes.filter((o) => o.failed > 0)) process.stdout.write(`FAILED  ${o.file} (${o.failed} failed, exit ${o.code})\n`)
// The counts line is the run's last (CI reads exactly `N passed, N failed`): skips, if ever, are told before it.
if (sum('skipped') > 0) process.stdout.write(`${sum('skipped')} skipped (each names its reason)\n`)
process.stdout.write(`${sum('passed')} passed, ${sum('failed')} failed\n`)
if (run.interrupted) process.stdout.write(`interrupted by ${run.interrupted}: ${outcomes.length} of ${files.length} test files started\n`)
process.exitCode = run.interrupted ? 130 : sum('failed') > 0 || files.length === 0 ? 1 : 0
