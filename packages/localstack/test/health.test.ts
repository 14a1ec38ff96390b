import { suite } from 'uvu'
import * as assert from 'uvu/assert'
import { deploymentProgress, gatewayProblems, imageVersion, serviceProblem, type HealthDocument } from '../src/index.js'

const Health = suite('localstack health and readiness (pure)')
const health: HealthDocument = { services: { s3: 'running', sqs: 'available', sns: 'error', lambda: 'disabled' }, edition: 'community', version: '4.14.0' }

const services: [string, string, RegExp | undefined][] = [
  ['running is usable', 's3', undefined],
  ['available (lazy, not started yet) is usable', 'sqs', undefined],
  ['error is a problem', 'sns', /sns is error/],
  ['disabled points at SERVICES', 'lambda', /disabled.*SERVICES/],
  ['absent is a problem', 'dynamodb', /not listed/],
]
for (const [name, service, problem] of services) {
  Health(`service state: ${name}`, () => {
    const found = serviceProblem(health, service)
    if (problem) assert.match(found ?? '', problem)
    else assert.is(found, undefined)
  })
}

Health('the version must match the pinned tag, and a token must not leave the edition community', () => {
  assert.equal(gatewayProblems(health, { version: '4.14.0', edition: 'community' }), [])
  assert.match(gatewayProblems(health, { version: '4.13.0', edition: 'community' })[0] ?? '', /version is 4.14.0, but the pinned image is 4.13.0/)
  assert.match(gatewayProblems(health, { version: '4.14.0', edition: 'token' })[0] ?? '', /token was not accepted/)
  // A calendar tag keeps its zero; the version LocalStack reports is its Python package's, normalised (PEP 440).
  const calendar: HealthDocument = { ...health, edition: 'pro', version: '2026.7.0' }
  assert.equal(gatewayProblems(calendar, { version: '2026.07.0', edition: 'token' }), [])
  assert.match(gatewayProblems(calendar, { version: '2026.08.0', edition: 'token' })[0] ?? '', /version is 2026\.7\.0, but the pinned image is 2026\.08\.0/)
})

Health('imageVersion reads the tag, ignoring a digest and a registry port', () => {
  assert.is(imageVersion('localstack/localstack:4.14.0'), '4.14.0')
  assert.is(imageVersion('registry.local:5000/localstack/localstack:2026.07.0@sha256:abc'), '2026.07.0')
})

const rollouts: [string, Record<string, unknown> | undefined, boolean][] = [
  ['no Deployment', undefined, false],
  ['an old generation still reporting available', { metadata: { name: 'x', generation: 2 }, status: { observedGeneration: 1, availableReplicas: 1, updatedReplicas: 1, conditions: [{ type: 'Available', status: 'True' }] } }, false],
  ['observed, but not available', { metadata: { name: 'x', generation: 2 }, status: { observedGeneration: 2, availableReplicas: 0, updatedReplicas: 1, conditions: [{ type: 'Available', status: 'False' }] } }, false],
  ['observed and available', { metadata: { name: 'x', generation: 2 }, status: { observedGeneration: 2, availableReplicas: 1, updatedReplicas: 1, conditions: [{ type: 'Available', status: 'True' }] } }, true],
]
for (const [name, deployment, done] of rollouts) {
  Health(`deployment ready: ${name}`, () => assert.is(deploymentProgress(deployment as never).done, done))
}

Health.run()
