import { suite } from 'uvu'
import * as assert from 'uvu/assert'
import { onceMoreOnStaleConnection } from '../src/kube/kube-client.js'

const Stale = suite('a kept-alive connection the API server closed under a request')

async function rejection(work: () => Promise<unknown>): Promise<string> {
  try {
    await work()
  } catch (error) {
    return (error as Error).message
  }
  assert.unreachable('it did not fail')
  return ''
}

const failingOnce = (message: string) => {
  let calls = 0
  return { calls: () => calls, request: async () => (++calls === 1 ? Promise.reject(new Error(message)) : 'answer') }
}

Stale('node-fetch\'s "Premature close" and a reset are sent once more', async () => {
  for (const message of ['Invalid response body while trying to fetch https://api/apis/apps/v1: Premature close', 'read ECONNRESET', 'socket hang up']) {
    const r = failingOnce(message)
    assert.is(await onceMoreOnStaleConnection(r.request), 'answer')
    assert.is(r.calls(), 2, message)
  }
})

Stale('any other failure is not retried, and a second stale failure is the caller\'s', async () => {
  const other = failingOnce('403 Forbidden')
  assert.match(await rejection(() => onceMoreOnStaleConnection(other.request)), /Forbidden/)
  assert.is(other.calls(), 1)
  let calls = 0
  assert.match(await rejection(() => onceMoreOnStaleConnection(() => Promise.reject(new Error(`Premature close #${++calls}`)))), /#2$/)
})

Stale.run()
