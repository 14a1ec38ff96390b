import { mkdtempSync, rmSync, writeFileSync } from 'node:fs'
import { tmpdir } from 'node:os'
import { join } from 'node:path'
import { suite, test } from 'uvu'
import * as assert from 'uvu/assert'
import { checkStep, createKubeClient, type Component, type Recap, type TaskIo } from '@homelab/core'
import { labOptionsFromEnv, reportHookErrors, useLab } from '@homelab/lab'
import { runVerifyAllTask } from '../runbooks/verify-all-task.js'

test('verify under --plan (the last stage of `pnpm turbo bootstrap --plan`) checks and writes nothing, and says why', async () => {
  let output = ''
  const out = { write: (s: string) => void (output += s) }
  // A config that cannot be read: a verify that tried to reach anything would fail on it.
  const io: TaskIo = { argv: ['--plan', '--config', '/nonexistent/homelab.yaml'], env: {}, cwd: '/', stdout: out, stderr: out, signal: new AbortController().signal }
  assert.is(await runVerifyAllTask(io), 0, output)
  assert.match(output, /skipped +verify: --plan applied nothing, so nothing new is verified/)
  assert.match(output, /recap verify \(plan\): ok=0 changed=0 failed=0 skipped=1/)
})

test.run()

type Ctx = { kubeconfig: string; dir: string; namespace: string }
const Record = suite<Ctx>('the last stage after a no-op run remembers a failed full verify', { kubeconfig: '', dir: '', namespace: '' })

/** A component whose one check fails in a full verify while `brokenInFull` is set; it records each verify's kind. */
function canary() {
  const state = { brokenInFull: false, seen: [] as ('quick' | 'full')[] }
  const component: Component = {
    name: 'canary',
    bootstrap: async () => [],
    verify: async (ctx) => {
      state.seen.push(ctx.quick ? 'quick' : 'full')
      return [checkStep('canary pull on node1', async () => {
        if (!ctx.quick && state.brokenInFull) throw new Error('the pull on node1 failed')
      })]
    },
  }
  return { state, component }
}

const NOOP: Recap = { title: 'pipeline', plan: false, ok: 5, changed: 0, failed: 0, skipped: 0 }
const CHANGED: Recap = { ...NOOP, changed: 1 }

async function verify(ctx: Ctx, component: Component, soFar: Recap, signal = new AbortController().signal) {
  let output = ''
  const out = { write: (s: string) => void (output += s) }
  const io: TaskIo = { argv: ['--config', join(ctx.dir, 'homelab.yaml')], env: {}, cwd: ctx.dir, stdout: out, stderr: out, signal, pipelineSoFar: () => soFar }
  const code = await runVerifyAllTask(io, [component])
  return { code, output }
}

Record.before(reportHookErrors(async (ctx) => {
  ctx.kubeconfig = (await useLab(labOptionsFromEnv(process.env))).kubeconfigPath
  ctx.dir = mkdtempSync(join(tmpdir(), 'verify-record-'))
  ctx.namespace = `verify-record-${Date.now().toString(36)}`
  writeFileSync(join(ctx.dir, 'homelab.yaml'), `domain: homelab.local\nkubernetes:\n  kubeconfig: ${ctx.kubeconfig}\n  namespace: ${ctx.namespace}\n`)
  await createKubeClient({ kubeconfigPath: ctx.kubeconfig, fieldManager: 'test' }).apply({ apiVersion: 'v1', kind: 'Namespace', metadata: { name: ctx.namespace } }, { dryRun: false, force: false })
}))

Record.after(async (ctx) => {
  await createKubeClient({ kubeconfigPath: ctx.kubeconfig, fieldManager: 'test' }).delete({ apiVersion: 'v1', kind: 'Namespace', name: ctx.namespace })
  rmSync(ctx.dir, { recursive: true, force: true })
})

Record('a failed full verify is recorded; the next no-op run verifies in full, naming it, until one passes; then quick again, writing nothing', async (ctx) => {
  const { state, component } = canary()
  const kube = createKubeClient({ kubeconfigPath: ctx.kubeconfig, fieldManager: 'test' })
  const record = { apiVersion: 'v1', kind: 'ConfigMap', namespace: ctx.namespace, name: 'full-verify-failed' }

  state.brokenInFull = true
  const failed = await verify(ctx, component, CHANGED)
  assert.is(failed.code, 1, failed.output)
  assert.match(failed.output, /failed\s+canary pull on node1\n\s+the pull on node1 failed/)
  const stored = await kube.get(record)
  assert.is((stored?.['data'] as Record<string, string> | undefined)?.['steps'], 'canary: canary pull on node1')
  assert.is(stored?.metadata.labels?.['app.kubernetes.io/managed-by'], 'homelab-devtools', 'teardown finds it by this label')

  // Still broken: a no-op run must not pass on quick checks alone. The record stays as first written.
  const stillBroken = await verify(ctx, component, NOOP)
  assert.is(stillBroken.code, 1, stillBroken.output)
  assert.match(stillBroken.output, /this run changed nothing, but the last full verify failed \(\S+: canary: canary pull on node1\): verifying in full/)
  assert.is((await kube.get(record))?.metadata.resourceVersion, stored?.metadata.resourceVersion, 'the same failure rewrote the record')

  // Interrupted, the check never ran: that proves nothing, so the record stays.
  state.brokenInFull = false
  const interrupted = new AbortController()
  interrupted.abort()
  const cut = await verify(ctx, component, NOOP, interrupted.signal)
  assert.is(cut.code, 130, cut.output)
  assert.ok(await kube.get(record), 'an interrupted verify dropped the record')

  const repaired = await verify(ctx, component, NOOP)
  assert.is(repaired.code, 0, repaired.output)
  assert.is(await kube.get(record), undefined, 'a passing full verify drops the record')

  const versions = async () => (await kube.list('v1', 'ConfigMap', { namespace: ctx.namespace })).map((o) => `${o.metadata.name}@${o.metadata.resourceVersion}`)
  const before = await versions()
  const quiet = await verify(ctx, component, NOOP)
  assert.is(quiet.code, 0, quiet.output)
  assert.match(quiet.output, /this run changed nothing: quick checks only/)
  assert.equal(await versions(), before, 'a no-op run wrote something')
  assert.equal(state.seen, ['full', 'full', 'full', 'full', 'quick'])
})

Record.run()
