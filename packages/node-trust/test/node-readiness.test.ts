import { test } from 'uvu'
import * as assert from 'uvu/assert'
import { KubeError, type KubeClient, type KubeObject } from '@homelab/core'
import { waitForReadyAfterRestart, type ReadyCondition } from '../src/index.js'

const before: ReadyCondition = { status: 'True', lastHeartbeatTime: '2026-01-01T00:00:05Z', lastTransitionTime: '2026-01-01T00:00:01Z' }
const nodeWith = (ready: ReadyCondition): KubeObject => ({ apiVersion: 'v1', kind: 'Node', metadata: { name: 'server-1' }, status: { conditions: [{ type: 'Ready', ...ready }] } })

/** A client whose Node reads answer, in turn, each of `answers` (an error is thrown), the last one for ever after. */
function kubeAnswering(answers: (KubeObject | Error)[]): KubeClient & { reads: number } {
  const client = {
    reads: 0,
    async get() {
      const answer = answers[Math.min(client.reads++, answers.length - 1)]!
      if (answer instanceof Error) throw answer
      return answer
    },
  }
  return client as unknown as KubeClient & { reads: number }
}

const options = { nodeName: 'server-1', before, timeoutMs: 5000 }

test('restarting the server node takes the API server away for a while: the wait rides it out until a newer Ready', async () => {
  const unreachable = new KubeError('cannot get Node server-1: API server https://10.0.0.1:6443 unreachable (connect ECONNREFUSED)', {})
  const starting = new KubeError('cannot get Node server-1: 503 ServiceUnavailable', { status: 503 })
  const kube = kubeAnswering([unreachable, unreachable, starting, nodeWith(before), nodeWith({ ...before, lastHeartbeatTime: '2026-01-01T00:01:00Z' })])
  await waitForReadyAfterRestart(kube, options)
  assert.is(kube.reads, 5, 'still Ready from before the restart is not Ready after it')
})

test('a refusal that is no restart\'s doing (403) ends the wait at once', async () => {
  const kube = kubeAnswering([new KubeError('cannot get Node server-1: 403 Forbidden', { status: 403 })])
  try {
    await waitForReadyAfterRestart(kube, options)
    assert.unreachable('a 403 must not be waited out')
  } catch (error) {
    assert.match((error as Error).message, /403 Forbidden/)
  }
  assert.is(kube.reads, 1)
})

test.run()
