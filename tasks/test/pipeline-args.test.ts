import { suite } from 'uvu'
import * as assert from 'uvu/assert'
import type { TaskIo } from '@homelab/core'
import { isFiltered, parsePipelineArgs, pipelineEnvironment, turboRunArgv } from '../pipeline/pipeline-args.js'
import { pnpmTurbo } from '../pipeline/run-turbo-pipeline.js'
import { parseRecap, splitTaskLine, totalOf } from '../pipeline/pipeline-recaps.js'

const Args = suite('pnpm turbo arguments')

const cases: [string, string[], unknown][] = [
  ['tool flags go to the tasks wherever they stand', ['bootstrap', '--json', '--filter=@homelab/dns', '--config', 'h.yaml'], { kind: 'pipeline', verb: 'bootstrap', turboArgs: ['--filter=@homelab/dns'], toolArgs: ['--json', '--config', 'h.yaml'], json: true, separateProcesses: false }],
  ['arguments after -- are the tasks\' too', ['plan', '--concurrency=2', '--', '--yes'], { kind: 'pipeline', verb: 'plan', turboArgs: ['--concurrency=2'], toolArgs: ['--yes'], json: false, separateProcesses: false }],
  ['`run` in front is accepted', ['run', 'verify', '--kubeconfig=k'], { kind: 'pipeline', verb: 'verify', turboArgs: [], toolArgs: ['--kubeconfig=k'], json: false, separateProcesses: false }],
  ['--separate-processes is the pipeline\'s, neither turbo\'s nor the tasks\'', ['bootstrap', '--separate-processes', '--plan'], { kind: 'pipeline', verb: 'bootstrap', turboArgs: [], toolArgs: ['--plan'], json: false, separateProcesses: true }],
  ['any other turbo command passes through untouched', ['ls', '--affected'], { kind: 'passthrough', args: ['ls', '--affected'] }],
]
for (const [name, argv, want] of cases) Args(name, () => assert.equal(parsePipelineArgs(argv), want))

Args('bootstrap names both preflight halves and verify-all so they get the flags, and never stops independent packages', () => {
  const args = parsePipelineArgs(['bootstrap', '--json'])
  if (args.kind !== 'pipeline') return assert.unreachable()
  const argv = turboRunArgv(args)
  assert.equal(argv.slice(0, 5), ['run', 'bootstrap', '//#preflight-cluster', '//#preflight-nodes', '//#verify-all'])
  assert.ok(argv.includes('--continue=dependencies-successful'))
  assert.equal(argv.slice(-2), ['--', '--json'])
})

Args('a filtered bootstrap names no root stage itself: verify-all would bring back every package', () => {
  for (const filter of [['--filter=@homelab/dns'], ['-F', '@homelab/dns'], ['--affected']]) {
    const args = parsePipelineArgs(['bootstrap', ...filter])
    if (args.kind !== 'pipeline') return assert.unreachable()
    assert.ok(isFiltered(args.turboArgs), filter.join(' '))
    assert.equal(turboRunArgv(args).slice(0, 3), ['run', 'bootstrap', '--continue=dependencies-successful'])
    assert.equal(turboRunArgv(args, ['//#preflight-cluster']).slice(0, 3), ['run', 'bootstrap', '//#preflight-cluster'])
  }
  assert.not.ok(isFiltered(['--concurrency=2']))
})

Args('the config travels as an absolute HOMELAB_CONFIG: from --config, else ./homelab.yaml, else nothing', () => {
  const args = (argv: string[]) => parsePipelineArgs(argv) as Extract<ReturnType<typeof parsePipelineArgs>, { kind: 'pipeline' }>
  assert.is(pipelineEnvironment(args(['bootstrap', '--config', 'a.yaml']), '/home/me', {}, () => false).env['HOMELAB_CONFIG'], '/home/me/a.yaml')
  assert.equal(pipelineEnvironment(args(['bootstrap', '--config', 'a.yaml']), '/home/me', {}, () => false).toolArgs, ['--config', '/home/me/a.yaml'])
  assert.is(pipelineEnvironment(args(['bootstrap']), '/home/me', {}, (p) => p === '/home/me/homelab.yaml').env['HOMELAB_CONFIG'], '/home/me/homelab.yaml')
  assert.is(pipelineEnvironment(args(['bootstrap']), '/home/me', {}, () => false).env['HOMELAB_CONFIG'], undefined)
})

/** `pnpm turbo <argv>` in this process, its output captured. */
async function pnpmTurboRun(argv: string[]): Promise<{ code: number; stdout: string; stderr: string }> {
  let stdout = ''
  let stderr = ''
  const env = Object.fromEntries(Object.entries(process.env).filter(([k]) => k !== 'HOMELAB_CONFIG' && !k.startsWith('TURBO_')))
  const io: TaskIo = {
    argv,
    env,
    cwd: process.cwd(),
    stdout: { write: (c: string | Uint8Array) => ((stdout += String(c)), true) },
    stderr: { write: (c: string | Uint8Array) => ((stderr += String(c)), true) },
    signal: new AbortController().signal,
  }
  return { code: await pnpmTurbo(io), stdout, stderr }
}

Args('a flag without its value is a usage error: exit 2, one message naming it (one JSON event under --json), no stack', async () => {
  const human = await pnpmTurboRun(['bootstrap', '--config'])
  assert.is(human.code, 2)
  assert.match(human.stdout, /--config needs a value/)
  assert.match(human.stdout, /usage: pnpm turbo/)
  assert.not.match(human.stdout + human.stderr, /\n\s+at /)
  const json = await pnpmTurboRun(['bootstrap', '--json', '--config'])
  assert.is(json.code, 2)
  const events = json.stdout.trim().split('\n').map((l) => JSON.parse(l) as { event: string; message: string })
  assert.equal(events.map((e) => e.event), ['error'])
  assert.match(events[0]!.message, /--config needs a value/)
})

Args('a graph turbo cannot resolve (a filter matching no package, --dry) exits 2 with turbo\'s reason, through the reporter', async () => {
  for (const [flag, reason] of [['--filter=@homelab/no-such-package', /No package found/], ['--dry', /could not resolve the pipeline/]] as const) {
    const human = await pnpmTurboRun(['plan', flag])
    assert.is(human.code, 2, flag)
    assert.match(human.stdout, reason)
    assert.match(human.stdout, /check the turbo flags/)
    const json = await pnpmTurboRun(['plan', '--json', flag])
    assert.is(json.code, 2, flag)
    const events = json.stdout.trim().split('\n').map((l) => JSON.parse(l) as { event: string; message: string })
    assert.equal(events.map((e) => e.event), ['error'], flag)
    assert.match(events[0]!.message, reason)
  }
})

const Recaps = suite('recaps through turbo')

Recaps('a prefixed human recap line is found and attributed to its task', () => {
  const line = splitTaskLine('\x1b[36m@homelab/dns:bootstrap: \x1b[0mrecap dns (plan): ok=3 changed=1 failed=0 skipped=2')
  assert.is(line.task, '@homelab/dns#bootstrap')
  assert.equal(parseRecap(line.text, false), { title: 'dns', plan: true, ok: 3, changed: 1, failed: 0, skipped: 2 })
  assert.is(splitTaskLine('//:preflight-nodes: ok       x').task, '//#preflight-nodes')
})

Recaps('a --json recap event is found; other lines are not recaps', () => {
  assert.equal(parseRecap('{"event":"recap","title":"registry","plan":false,"ok":1,"changed":0,"failed":0,"skipped":0}', true), { event: 'recap', title: 'registry', plan: false, ok: 1, changed: 0, failed: 0, skipped: 0 } as never)
  assert.is(parseRecap('{"event":"step","step":"x"}', true), undefined)
  assert.is(parseRecap('ok       apply Namespace registry', false), undefined)
})

Recaps('the total adds every recap up', () => {
  const r = (ok: number, changed: number) => ({ title: 'x', plan: false, ok, changed, failed: 0, skipped: 1 })
  assert.equal(totalOf([r(2, 1), r(3, 0)], false), { title: 'total', plan: false, ok: 5, changed: 1, failed: 0, skipped: 2 })
})

Args.run()
Recaps.run()
