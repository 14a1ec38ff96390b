import { suite } from 'uvu'
import * as assert from 'uvu/assert'
import { crdFixturesDir, loadLabCrds, loadPiholeSpecValidator, piholeSpecPath } from '../src/index.js'

const Fixtures = suite('the upstream fixtures beside the repository')

Fixtures('are found where the repository sits beside shared/', async () => {
  assert.ok(loadLabCrds(crdFixturesDir()).length >= 10)
  assert.equal((await loadPiholeSpecValidator(piholeSpecPath())).validateResponse('get_auth', 200, { session: { valid: true, totp: false, sid: null, validity: -1, message: 'no password set' }, took: 0.001 }), [])
})

Fixtures('missing (a clone elsewhere): the lab says which files and where it looks, not a bare ENOENT', async () => {
  const crds = (() => {
    try {
      loadLabCrds('/nowhere/shared/fixtures/crds')
    } catch (error) {
      return error as Error & { hint?: string }
    }
    return assert.unreachable('loaded CRDs from nowhere') as never
  })()
  assert.match(crds.message, /^the upstream CRDs not found: \/nowhere\/shared\/fixtures\/crds/)
  assert.match(crds.message + (crds.hint ?? ''), /clone it beside shared\//)
  const spec = await loadPiholeSpecValidator('/nowhere/shared/fixtures/pihole/specs/main.yaml').then(() => assert.unreachable('loaded a spec from nowhere') as never, (error: Error) => error)
  assert.match(spec.message, /^the Pi-hole OpenAPI spec not found: \/nowhere\//)
})

Fixtures.run()
