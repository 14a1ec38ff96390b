import { suite } from 'uvu'
import * as assert from 'uvu/assert'
import type { KubeObject } from '@homelab/core'
import { deploymentReadiness } from '../src/index.js'

const Rollout = suite('a Deployment is rolled out as `kubectl rollout status` says it is')

const deployment = (status: Record<string, number>, generation = 2, replicas = 1): KubeObject => ({
  apiVersion: 'apps/v1', kind: 'Deployment', metadata: { name: 'registry-ui', namespace: 'registry', generation }, spec: { replicas }, status,
})

const cases: [string, KubeObject | undefined, boolean, RegExp][] = [
  ['every replica updated and available, none older', deployment({ observedGeneration: 2, replicas: 1, updatedReplicas: 1, availableReplicas: 1 }), true, /1\/1 updated, 1\/1 available$/],
  ['a rolling update whose new pod never comes up: the old one serves, but it is not rolled out', deployment({ observedGeneration: 2, replicas: 2, updatedReplicas: 1, availableReplicas: 1 }), false, /1 of an older template still running/],
  ['the new template not yet observed', deployment({ observedGeneration: 1, replicas: 1, updatedReplicas: 1, availableReplicas: 1 }), false, /generation 2 not yet observed/],
  ['updated but not yet available', deployment({ observedGeneration: 2, replicas: 1, updatedReplicas: 1, availableReplicas: 0 }), false, /0\/1 available/],
  ['no Deployment', undefined, false, /not found/],
]
for (const [name, object, done, seen] of cases) {
  Rollout(name, () => {
    const readiness = deploymentReadiness(object)
    assert.is(readiness.done, done)
    assert.match(readiness.seen, seen)
  })
}

Rollout.run()
