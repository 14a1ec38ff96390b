import { suite } from 'uvu'
import * as assert from 'uvu/assert'
import { createReporter, ToolClients, type TaskIo } from '@homelab/core'
import { parsePipelineArgs, turboRunArgv, PIPELINE_VERBS } from '../pipeline/pipeline-args.js'
import { batchedOutput, pipelineOutput, prefixedLines, taskPrefix } from '../pipeline/pipeline-output.js'
import { PIPELINE_TASK_ENTRIES, type TaskEntry } from '../pipeline/pipeline-tasks.js'
import { separateProcessesExitCode, turboTaskFailure } from '../pipeline/pipeline-exit-code.js'
import { runGraphInProcess } from '../pipeline/run-in-process.js'
import { parseDryRun, turboTaskGraph, type GraphTask } from '../pipeline/task-graph.js'
import { REPO_ROOT } from '../lab/run-tool-process.js'
import { TURBO_BIN } from '../pipeline/run-turbo-pipeline.js'

const Graph = suite('the pipeline run in one process')
// Never connected: the fake tasks below make no connections.
const clients = new ToolClients()

const task = (taskId: string, dependencies: string[] = []): GraphTask => ({ taskId, task: taskId.split('#')[1]!, directory: 'x', dependencies })
// preflight → a → (b ∥ c) → d(b) ; e(a, b, c, d)
const GRAPH = [task('//#pre'), task('@t/a#t', ['//#pre']), task('@t/b#t', ['@t/a#t']), task('@t/c#t', ['@t/a#t']), task('@t/d#t', ['@t/a#t', '@t/b#t']), task('//#post', ['@t/a#t', '@t/b#t', '@t/c#t', '@t/d#t'])]

/** Entries that print a recap and end with the given exit code, recording when they ran. */
function fakeEntries(codes: Record<string, number>, log: string[]): Record<string, TaskEntry> {
  return Object.fromEntries(GRAPH.map((t) => [t.taskId, async (io: TaskIo) => {
    log.push(`start ${t.taskId}`)
    await new Promise((r) => setTimeout(r, 5))
    const code = codes[t.taskId] ?? 0
    createReporter({ json: false, out: io.stdout }).recap({ title: t.taskId, plan: false, ok: 1, changed: t.taskId === '@t/a#t' ? 1 : 0, failed: code === 0 ? 0 : 1, skipped: 0 })
    log.push(`end ${t.taskId}`)
    return code
  }]))
}

async function run(codes: Record<string, number>, signal = new AbortController().signal) {
  const log: string[] = []
  let out = ''
  const io = { stdout: { write: (s: string) => (out += s) }, stderr: { write: (s: string) => (out += s) } }
  const output = pipelineOutput(false, io)
  const code = await runGraphInProcess({ graph: GRAPH, entries: fakeEntries(codes, log), argv: [], env: {}, cwd: '/', signal, output, root: '/', clients })
  return { code, log, out }
}

Graph('every task starts after all it depends on ended, independent ones side by side, each line under its prefix', async () => {
  const { code, log, out } = await run({})
  assert.is(code, 0)
  const at = (entry: string) => log.indexOf(entry)
  for (const t of GRAPH) for (const dep of t.dependencies) assert.ok(at(`end ${dep}`) < at(`start ${t.taskId}`), `${t.taskId} started before ${dep} ended`)
  assert.ok(at('start @t/c#t') < at('end @t/b#t'), 'b and c ran side by side')
  assert.match(out, /^@t\/a:t: recap @t\/a#t: ok=1 changed=1 failed=0 skipped=0$/m)
  assert.match(out, /^\/\/:post: recap /m)
})

Graph('a failed task stops only what depends on it; independent tasks finish; its exit code is the run\'s', async () => {
  const { code, log } = await run({ '@t/b#t': 2 })
  assert.is(code, 2)
  assert.ok(log.includes('end @t/c#t'), 'c does not depend on b and finishes')
  assert.not.ok(log.includes('start @t/d#t'), 'd depends on b')
  assert.not.ok(log.includes('start //#post'), 'post depends on b')
})

Graph('two failures with different codes make exit 1; an interrupted run exits 130 and starts nothing more', async () => {
  assert.is((await run({ '@t/b#t': 2, '@t/c#t': 1 })).code, 1)
  const controller = new AbortController()
  controller.abort()
  const interrupted = await run({}, controller.signal)
  assert.is(interrupted.code, 130)
  assert.equal(interrupted.log, [])
})

Graph('each task is told what the tasks before it reported, added up (the last stage verifies quickly after a no-op)', async () => {
  const seen: number[] = []
  const entries = fakeEntries({}, [])
  const output = pipelineOutput(false, { stdout: { write: () => true }, stderr: { write: () => true } })
  const post = entries['//#post']!
  entries['//#post'] = (io) => {
    seen.push(io.pipelineSoFar!().changed, io.pipelineSoFar!().ok)
    return post(io)
  }
  await runGraphInProcess({ graph: GRAPH, entries, argv: [], env: {}, cwd: '/', signal: new AbortController().signal, output, root: '/', clients })
  assert.equal(seen, [1, 5])
})

Graph('a task that throws fails alone, with its stack on stderr, and does not take the others down', async () => {
  const entries = fakeEntries({}, [])
  entries['@t/c#t'] = () => Promise.reject(new Error('a bug in c'))
  let err = ''
  const output = pipelineOutput(false, { stdout: { write: () => true }, stderr: { write: (s: string) => (err += s) } })
  const code = await runGraphInProcess({ graph: GRAPH, entries, argv: [], env: {}, cwd: '/', signal: new AbortController().signal, output, root: '/', clients })
  assert.is(code, 1)
  assert.match(err, /^@t\/c:t: Error: a bug in c$/m)
})

Graph('--json: stdout carries only events, each tagged with its task, ending with the total', async () => {
  let out = ''
  let err = ''
  const output = pipelineOutput(true, { stdout: { write: (s: string) => (out += s) }, stderr: { write: (s: string) => (err += s) } })
  const entries = Object.fromEntries(GRAPH.map((t) => [t.taskId, async (io: TaskIo) => {
    const reporter = createReporter({ json: true, out: io.stdout })
    reporter.start(t.taskId, false)
    reporter.recap({ title: t.taskId, plan: false, ok: 2, changed: 0, failed: 0, skipped: 0 })
    io.stderr.write('a line of stderr\n')
    return 0
  }]))
  assert.is(await runGraphInProcess({ graph: GRAPH, entries, argv: ['--json'], env: {}, cwd: '/', signal: new AbortController().signal, output, root: '/', clients }), 0)
  output.finish({ verb: 'x', plan: false, filtered: false })
  const events = out.trim().split('\n').map((line) => JSON.parse(line) as { event: string; task?: string; title?: string; ok?: number })
  assert.ok(events.slice(0, -1).every((e) => GRAPH.some((t) => t.taskId === e.task)), out)
  assert.equal({ ...events.at(-1), task: undefined }, { event: 'recap', title: 'total', plan: false, ok: 12, changed: 0, failed: 0, skipped: 0, task: undefined })
  assert.match(err, /^@t\/a:t: a line of stderr$/m)
})

Graph('prefixes are turbo\'s, and partial writes come out as whole lines', () => {
  assert.is(taskPrefix('@homelab/dns#bootstrap'), '@homelab/dns:bootstrap: ')
  assert.is(taskPrefix('//#preflight'), '//:preflight: ')
  const lines: string[] = []
  const out = prefixedLines('x: ', (l) => lines.push(l))
  out.write('ab')
  out.write('c\nd')
  out.end()
  assert.equal(lines, ['x: abc', 'x: d'])
})

Graph('turbo\'s dry-run JSON gives the runnable tasks with their dependencies', () => {
  const json = JSON.stringify({ tasks: [
    { taskId: '//#preflight', task: 'preflight', directory: '', command: 'tsx tasks/preflight.ts', dependencies: [] },
    { taskId: '@homelab/core#bootstrap', task: 'bootstrap', directory: 'packages/core', command: '<NONEXISTENT>', dependencies: [] },
    { taskId: '@homelab/dns#bootstrap', task: 'bootstrap', directory: 'packages/dns', command: 'x', dependencies: ['//#preflight'] },
  ] })
  assert.equal(parseDryRun(json).map((t) => [t.taskId, t.dependencies]), [['//#preflight', []], ['@homelab/dns#bootstrap', ['//#preflight']]])
  assert.throws(() => parseDryRun('{}'), /no task list/)
})

const Exits = suite('the pipeline\'s exit code, however its tasks ran')

const SEPARATE_EXITS: [string, number, number[], boolean, number][] = [
  ['interrupted: 130 though turbo exits 0 after Ctrl-C', 0, [130], true, 130],
  ['interrupted before any task failed: 130', 0, [], true, 130],
  ['failures with different codes (3 and 2): 1, not turbo\'s highest', 3, [3, 2], false, 1],
  ['failures that agree: their code (3 for drift)', 3, [3, 3], false, 3],
  ['no failure: 0', 0, [], false, 0],
  ['turbo failed on its own (no task named): turbo\'s code', 1, [], false, 1],
]
for (const [name, turboExit, failed, interrupted, want] of SEPARATE_EXITS) {
  Exits(`--separate-processes, ${name}`, () => assert.is(separateProcessesExitCode(turboExit, failed, interrupted), want))
}

Exits('turbo\'s line for a failed task gives its id and code; a task\'s own output and turbo\'s summary do not', () => {
  assert.equal(turboTaskFailure('@homelab/dns#bootstrap:  ERROR  command (/work/main/packages/dns) /usr/bin/pnpm run bootstrap exited (3)'), { taskId: '@homelab/dns#bootstrap', code: 3 })
  assert.equal(turboTaskFailure('\x1b[31m//#preflight-cluster:  ERROR  command (/work/main) /usr/bin/pnpm run preflight-cluster exited (2)\x1b[0m'), { taskId: '//#preflight-cluster', code: 2 })
  assert.is(turboTaskFailure(' ERROR  run failed: command  exited (3)'), undefined)
  assert.is(turboTaskFailure('@homelab/dns:bootstrap: x#y:  ERROR  command (a) b exited (9)'), undefined)
  assert.is(turboTaskFailure('@homelab/dns#bootstrap:  WARNING  command finished with error, but continuing...'), undefined)
})

const Batched = suite('the pipeline\'s stdout, written once per turn of the event loop')

Batched('lines of one turn go out in one write, stderr first hands on what stdout holds, close() the rest', async () => {
  const writes: string[] = []
  const batched = batchedOutput({ stdout: { write: (s: string) => writes.push(`out:${s}`) }, stderr: { write: (s: string) => writes.push(`err:${s}`) } })
  batched.stdout.write('a\n')
  batched.stdout.write('b\n')
  assert.equal(writes, [], 'held until the turn ends')
  await new Promise((r) => setImmediate(r))
  assert.equal(writes, ['out:a\nb\n'])
  batched.stdout.write('c\n')
  batched.stderr.write('oops\n')
  assert.equal(writes.slice(1), ['out:c\n', 'err:oops\n'], 'stdout before stderr, in the order written')
  batched.stdout.write('d\n')
  batched.close()
  assert.equal(writes.slice(3), ['out:d\n'])
  await new Promise((r) => setImmediate(r))
  assert.is(writes.length, 4, 'nothing written twice')
})

Batched('a crash hands on what stdout holds before Node prints its stack, and close() stops listening for one', () => {
  const writes: string[] = []
  const listening = process.listenerCount('uncaughtExceptionMonitor')
  const batched = batchedOutput({ stdout: { write: (s: string) => writes.push(`out:${s}`) }, stderr: { write: (s: string) => writes.push(`err:${s}`) } })
  batched.stdout.write('the line before the crash\n')
  // What Node emits for an uncaught exception (an unhandled rejection included) before it prints the stack and exits.
  const emit = process.emit.bind(process) as (event: string, ...args: unknown[]) => boolean
  emit('uncaughtExceptionMonitor', new Error('a bug in a task'), 'uncaughtException')
  assert.equal(writes, ['out:the line before the crash\n'])
  batched.close()
  assert.is(process.listenerCount('uncaughtExceptionMonitor'), listening)
})

const Table = suite('the in-process task table')

Table('runs exactly the tasks turbo.json puts in each pipeline, so neither can drift from the other', async () => {
  for (const verb of PIPELINE_VERBS) {
    const args = parsePipelineArgs([verb])
    if (args.kind !== 'pipeline') return assert.unreachable()
    const graph = await turboTaskGraph(TURBO_BIN, turboRunArgv(args), { cwd: REPO_ROOT, env: { ...process.env, TURBO_TELEMETRY_DISABLED: '1' } })
    const ofVerb = Object.keys(PIPELINE_TASK_ENTRIES).filter((id) => id.endsWith(`#${verb}`) || (verb === 'bootstrap' && id.startsWith('//#')))
    assert.equal(graph.map((t) => t.taskId).sort(), ofVerb.sort(), verb)
  }
})

Graph.run()
Exits.run()
Batched.run()
Table.run()
