import { mkdtempSync, writeFileSync } from 'node:fs'
import { tmpdir } from 'node:os'
import { join } from 'node:path'
import { suite } from 'uvu'
import * as assert from 'uvu/assert'
import { createReporter, EXIT, openToolContext, runSteps, runTask, StepSkipped, type Step, type TaskIo } from '../src/index.js'

type Captured = { text: () => string; out: { write: (s: string) => void } }
const capture = (): Captured => {
  let buf = ''
  return { text: () => buf, out: { write: (s: string) => void (buf += s) } }
}

/** A step over an in-memory value, counting applies, so tests see exactly what was written. */
function memoryStep(name: string, store: { value: string; applies: number }, want: string, extra: Partial<Step<string, string>> = {}): Step<string, string> {
  return {
    name,
    check: async () => store.value,
    desired: () => want,
    diff: (cur, des) => (cur === des ? [] : [des]),
    apply: async (changes) => {
      store.value = changes[0]!
      store.applies++
    },
    describe: (c) => ({ summary: `set to ${c}`, before: `${store.value}\n`, after: `${c}\n` }),
    ...extra,
  }
}

const Runner = suite('step runner')

Runner('a second run of converged steps reports changed=0 and applies nothing', async () => {
  const store = { value: 'a', applies: 0 }
  const first = await runSteps([memoryStep('s', store, 'b')], { title: 't', plan: false, reporter: createReporter({ json: false, out: capture().out }) })
  const second = await runSteps([memoryStep('s', store, 'b')], { title: 't', plan: false, reporter: createReporter({ json: false, out: capture().out }) })
  assert.is(first.changed, 1)
  assert.is(second.changed, 0)
  assert.is(second.ok, 1)
  assert.is(store.applies, 1)
})

Runner('--plan shows the diff and never calls apply()', async () => {
  const store = { value: 'old', applies: 0 }
  const out = capture()
  const run = await runSteps([memoryStep('s', store, 'new')], { title: 't', plan: true, reporter: createReporter({ json: false, out: out.out }) })
  assert.is(run.changed, 1)
  assert.is(store.applies, 0)
  assert.is(store.value, 'old')
  assert.match(out.text(), /-old/)
  assert.match(out.text(), /\+new/)
  assert.match(out.text(), /recap t \(plan\): ok=0 changed=1 failed=0 skipped=0/)
})

Runner('a failed step skips its dependants and lets independent steps run', async () => {
  const a = { value: '', applies: 0 }
  const c = { value: '', applies: 0 }
  const broken: Step<string, string> = { ...memoryStep('broken', a, 'x'), check: async () => Promise.reject(new Error('boom: node1 unreachable')) }
  const out = capture()
  const run = await runSteps([broken, memoryStep('dependant', a, 'y', { needs: ['broken'] }), memoryStep('independent', c, 'z')], {
    title: 't',
    plan: false,
    reporter: createReporter({ json: false, out: out.out }),
  })
  assert.equal([run.failed, run.skipped, run.changed], [1, 1, 1])
  assert.is(c.value, 'z')
  assert.is(a.applies, 0)
  assert.match(out.text(), /failed\s+broken\n\s+boom: node1 unreachable/)
  assert.match(out.text(), /skipped\s+dependant: needs "broken", which failed/)
})

Runner('StepSkipped is reported as skipped with its reason', async () => {
  const store = { value: '', applies: 0 }
  const step = memoryStep('monitor', store, 'x', { check: async () => Promise.reject(new StepSkipped('CRD ServiceMonitor not installed')) })
  const out = capture()
  const run = await runSteps([step], { title: 't', plan: false, reporter: createReporter({ json: false, out: out.out }) })
  assert.is(run.skipped, 1)
  assert.match(out.text(), /skipped\s+monitor: CRD ServiceMonitor not installed/)
})

Runner('--json emits one parseable event per line with stable fields', async () => {
  const store = { value: 'a', applies: 0 }
  const out = capture()
  await runSteps([memoryStep('s', store, 'b')], { title: 'demo', plan: false, reporter: createReporter({ json: true, out: out.out }) })
  const events = out
    .text()
    .trim()
    .split('\n')
    .map((l) => JSON.parse(l) as Record<string, unknown>)
  assert.equal(
    events.map((e) => e['event']),
    ['start', 'step', 'recap'],
  )
  const step = events[1]!
  assert.equal(Object.keys(step).sort(), ['changes', 'durationMs', 'event', 'status', 'step'])
  assert.is(step['status'], 'changed')
  assert.equal(events[2], { event: 'recap', title: 'demo', plan: false, ok: 0, changed: 1, failed: 0, skipped: 0 })
})

Runner('concurrency runs independent steps together but a dependant only after its need', async () => {
  const order: string[] = []
  const slow = (name: string, ms: number, needs?: string[]): Step<null, never> => ({
    name,
    ...(needs ? { needs } : {}),
    check: async () => {
      order.push(`start ${name}`)
      await new Promise((r) => setTimeout(r, ms))
      order.push(`end ${name}`)
      return null
    },
    desired: () => null,
    diff: () => [],
  })
  await runSteps([slow('a', 40), slow('b', 10), slow('c', 1, ['a'])], { title: 't', plan: false, concurrency: 4, reporter: createReporter({ json: true, out: capture().out }) })
  assert.equal(order.slice(0, 2), ['start a', 'start b'])
  assert.ok(order.indexOf('start c') > order.indexOf('end a'))
})

Runner('`after` orders without needing success: a step after a skipped or failed one still runs, once it ended', async () => {
  const order: string[] = []
  const step = (name: string, outcome: 'ok' | 'skip' | 'fail', ms: number, after?: string[]): Step<null, never> => ({
    name,
    ...(after ? { after } : {}),
    check: async () => {
      order.push(`start ${name}`)
      await new Promise((r) => setTimeout(r, ms))
      order.push(`end ${name}`)
      if (outcome === 'skip') throw new StepSkipped('already gone')
      if (outcome === 'fail') throw new Error('refused')
      return null
    },
    desired: () => null,
    diff: () => [],
  })
  const run = await runSteps([step('gone', 'skip', 30), step('broken', 'fail', 10), step('later', 'ok', 1, ['gone', 'broken'])], { title: 't', plan: false, concurrency: 4, reporter: createReporter({ json: true, out: capture().out }) })
  assert.equal(run.results.map((r) => [r.step, r.status]), [['broken', 'failed'], ['gone', 'skipped'], ['later', 'ok']])
  assert.ok(order.indexOf('start later') > order.indexOf('end gone'))
  const unknown = await runSteps([step('x', 'ok', 1, ['nope'])], { title: 't', plan: false, reporter: createReporter({ json: true, out: capture().out }) }).then(() => undefined, (e: unknown) => e)
  assert.match(String(unknown), /comes after unknown step "nope"/)
})

Runner('an aborted run skips the steps not yet started as interrupted', async () => {
  const controller = new AbortController()
  const first: Step<null, never> = { name: 'first', check: async () => (controller.abort(), null), desired: () => null, diff: () => [] }
  const second: Step<null, never> = { name: 'second', check: async () => null, desired: () => null, diff: () => [] }
  const run = await runSteps([first, second], { title: 't', plan: false, signal: controller.signal, reporter: createReporter({ json: true, out: capture().out }) })
  assert.equal(
    run.results.map((r) => [r.step, r.status, r.reason]),
    [
      ['first', 'ok', undefined],
      ['second', 'skipped', 'interrupted'],
    ],
  )
})

Runner('an interrupted task exits 130 and says so, even though no step failed', async () => {
  const controller = new AbortController()
  const out = capture()
  const io: TaskIo = { argv: [], env: {}, cwd: '/', stdout: out.out, stderr: out.out, signal: controller.signal }
  const first: Step<null, never> = { name: 'first', check: async () => (controller.abort(), null), desired: () => null, diff: () => [] }
  const second: Step<null, never> = { name: 'second', check: async () => null, desired: () => null, diff: () => [] }
  const code = await runTask({ name: 't', usage: 't', options: {} }, async ({ reporter }) => runSteps([first, second], { title: 't', plan: false, signal: controller.signal, reporter }), io)
  assert.is(code, EXIT.interrupted)
  assert.match(out.text(), /skipped\s+second: interrupted/)
  assert.match(out.text(), /error\s+interrupted: .*run it again/)
})

Runner('flags after npm\'s `--` are flags; a stray word is a usage error, not silently ignored', async () => {
  const run = async (argv: string[], positionals = false) => {
    const out = capture()
    let seen: unknown
    const io: TaskIo = { argv, env: {}, cwd: '/', stdout: out.out, stderr: out.out, signal: new AbortController().signal }
    const code = await runTask({ name: 't', usage: 't [--config FILE]', options: { config: { type: 'string' } }, positionals }, async ({ flags, positionals: words }) => ((seen = { flags: { ...flags }, words }), 0), io)
    return { code, seen, text: out.text() }
  }
  assert.equal((await run(['--', '--config', 'lab.yaml'])).seen, { flags: { config: 'lab.yaml' }, words: [] })
  const stray = await run(['sync', '--config', 'lab.yaml'])
  assert.is(stray.code, EXIT.usage)
  assert.match(stray.text, /unexpected argument "sync"/)
  assert.equal((await run(['--', 'add', 'ci', '--config', 'x'], true)).seen, { flags: { config: 'x' }, words: ['add', 'ci'] })
})

Runner('a relative --kubeconfig is read from where the command was typed, as --config is', async () => {
  const dir = mkdtempSync(join(tmpdir(), 'kubeconfig-'))
  writeFileSync(join(dir, 'k3s.yaml'), 'apiVersion: v1\nkind: Config\nclusters: [{name: c, cluster: {server: "https://192.0.2.7:6443"}}]\nusers: [{name: u, user: {token: t}}]\ncontexts: [{name: x, context: {cluster: c, user: u}}]\ncurrent-context: x\n')
  const ctx = openToolContext({ flags: { kubeconfig: 'k3s.yaml' }, reporter: createReporter({ json: false, out: capture().out }), env: {}, cwd: dir, signal: new AbortController().signal })
  try {
    assert.is(ctx.kube().server, 'https://192.0.2.7:6443')
  } finally {
    await ctx.close()
  }
})

Runner.run()
