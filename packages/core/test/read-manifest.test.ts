// readManifestFile: one YAML mapping per file, parsed once per content (a cache by SHA-256 of the text), a fresh
// object on every call, errors naming the file.
import { mkdtempSync, readdirSync, writeFileSync } from 'node:fs'
import { tmpdir } from 'node:os'
import { join } from 'node:path'
import { suite } from 'uvu'
import * as assert from 'uvu/assert'
import { ManifestError, readManifestFile } from '../src/index.js'

type Ctx = { dir: string; cache: string }
const Manifests = suite<Ctx>('reading manifests', {} as Ctx)
Manifests.before.each((ctx) => {
  ctx.dir = mkdtempSync(join(tmpdir(), 'manifests-'))
  ctx.cache = join(mkdtempSync(join(tmpdir(), 'manifests-cache-')), 'parsed')
})

const DEPLOYMENT = '# reviewable, with comments\napiVersion: apps/v1\nkind: Deployment\nmetadata:\n  name: web # inline\nspec:\n  replicas: 1\n'

Manifests('the first read parses and keeps the result; the next gives an equal, fresh object from the cache', (ctx) => {
  writeFileSync(join(ctx.dir, 'd.yaml'), DEPLOYMENT)
  const first = readManifestFile<{ metadata: { name: string }; spec: { replicas: number } }>(ctx.dir, 'd.yaml', ctx.cache)
  assert.equal(first, { apiVersion: 'apps/v1', kind: 'Deployment', metadata: { name: 'web' }, spec: { replicas: 1 } })
  assert.is(readdirSync(ctx.cache).length, 1)
  first.spec.replicas = 9
  const second = readManifestFile<typeof first>(ctx.dir, 'd.yaml', ctx.cache)
  assert.is(second.spec.replicas, 1, 'an edit by one caller leaked into the next read')
  assert.is.not(second, first)
})

Manifests('an edited file is parsed afresh: the cache is keyed by content', (ctx) => {
  writeFileSync(join(ctx.dir, 'd.yaml'), DEPLOYMENT)
  readManifestFile(ctx.dir, 'd.yaml', ctx.cache)
  writeFileSync(join(ctx.dir, 'd.yaml'), DEPLOYMENT.replace('replicas: 1', 'replicas: 3'))
  assert.is(readManifestFile<{ spec: { replicas: number } }>(ctx.dir, 'd.yaml', ctx.cache).spec.replicas, 3)
  assert.is(readdirSync(ctx.cache).length, 2)
})

Manifests('a torn cache entry is no answer: the YAML is parsed and the entry written whole again', (ctx) => {
  writeFileSync(join(ctx.dir, 'd.yaml'), DEPLOYMENT)
  readManifestFile(ctx.dir, 'd.yaml', ctx.cache)
  const [entry] = readdirSync(ctx.cache)
  writeFileSync(join(ctx.cache, entry!), '{"apiVersion": "apps/')
  assert.is(readManifestFile<{ kind: string }>(ctx.dir, 'd.yaml', ctx.cache).kind, 'Deployment')
  assert.is(readManifestFile<{ kind: string }>(ctx.dir, 'd.yaml', ctx.cache).kind, 'Deployment')
})

Manifests('what JSON cannot hold exactly (.inf) is parsed every time, never kept', (ctx) => {
  writeFileSync(join(ctx.dir, 'odd.yaml'), 'limit: .inf\n')
  assert.is(readManifestFile<{ limit: number }>(ctx.dir, 'odd.yaml', ctx.cache).limit, Infinity)
  assert.is(readManifestFile<{ limit: number }>(ctx.dir, 'odd.yaml', ctx.cache).limit, Infinity)
  assert.equal(readdirSync(join(ctx.cache, '..')).filter((f) => f === 'parsed'), [])
})

for (const [name, text, message] of [
  ['invalid YAML', 'a: [1, 2\n', /is not valid YAML/],
  ['a list instead of a mapping', '- a\n- b\n', /must hold one mapping, got a list/],
  ['an empty file', '', /must hold one mapping, got null/],
] as const) {
  Manifests(`${name} fails naming the file, and is not cached`, (ctx) => {
    writeFileSync(join(ctx.dir, 'bad.yaml'), text)
    for (let i = 0; i < 2; i++) {
      try {
        readManifestFile(ctx.dir, 'bad.yaml', ctx.cache)
        assert.unreachable('it read')
      } catch (error) {
        assert.instance(error, ManifestError)
        assert.match((error as Error).message, message)
        assert.match((error as Error).message, /bad\.yaml/)
      }
    }
  })
}

Manifests('a missing file says to restore the manifests folder', (ctx) => {
  try {
    readManifestFile(ctx.dir, 'absent.yaml', ctx.cache)
    assert.unreachable('it read')
  } catch (error) {
    assert.instance(error, ManifestError)
    assert.match((error as Error).message, /cannot read manifest .*absent\.yaml/)
  }
})

Manifests.run()
