import { suite } from 'uvu'
import * as assert from 'uvu/assert'
import { ApiException } from '@kubernetes/client-node'
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

Stale('undici\'s and node-fetch\'s closed-connection failures and a reset are sent once more', async () => {
  for (const message of ['other side closed', 'Invalid response body while trying to fetch https://api/apis/apps/v1: Premature close', 'read ECONNRESET', 'write EPIPE', 'socket hang up']) {
    const r = failingOnce(message)
    assert.is(await onceMoreOnStaleConnection(r.request), 'answer')
    assert.is(r.calls(), 2, message)
  }
  // undici's SocketError, whatever its message says.
  let calls = 0
  const closed = Object.assign(new Error('closed'), { code: 'UND_ERR_SOCKET' })
  assert.is(await onceMoreOnStaleConnection(async () => (++calls === 1 ? Promise.reject(closed) : 'answer')), 'answer')
  assert.is(calls, 2)
})

Stale('any other failure is not retried, and a second stale failure is the caller\'s', async () => {
  const other = failingOnce('403 Forbidden')
  assert.match(await rejection(() => onceMoreOnStaleConnection(other.request)), /Forbidden/)
  assert.is(other.calls(), 1)
  let calls = 0
  assert.match(await rejection(() => onceMoreOnStaleConnection(() => Promise.reject(new Error(`Premature close #${++calls}`)))), /#2$/)
})

Stale('an answer from the server is not retried, whatever its text says (a webhook\'s 500 naming a socket hang up)', async () => {
  let calls = 0
  const answered = () => Promise.reject(new ApiException(500, 'Internal error occurred: failed calling webhook: socket hang up', '{"kind":"Status"}', {}))
  assert.match(await rejection(() => onceMoreOnStaleConnection(() => (++calls, answered()))), /socket hang up/)
  assert.is(calls, 1)
})

Stale.run()
