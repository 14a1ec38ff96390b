// The pipeline's cache of turbo's task graph: asked once, answered from the cache until anything turbo reads changes.
// A workspace of its own in a temp folder; `resolveGraph` stands in for turbo and counts how often it is asked.
import { mkdirSync, mkdtempSync, readdirSync, rmSync, writeFileSync } from 'node:fs'
import { tmpdir } from 'node:os'
import { join } from 'node:path'
import { suite } from 'uvu'
import * as assert from 'uvu/assert'
import type { GraphTask } from '../pipeline/task-graph.js'
import { cacheableGraphArgv, cachedTaskGraph, graphFingerprint, graphInputs } from '../pipeline/task-graph-cache.js'

type Ctx = { root: string; cacheDir: string; asked: number; graph: GraphTask[] }
const GraphCache = suite<Ctx>('turbo task graph cache', {} as Ctx)

const ARGV = ['run', 'bootstrap', '--continue=dependencies-successful']
const write = (ctx: Ctx, path: string, text: string) => {
  mkdirSync(join(ctx.root, path, '..'), { recursive: true })
  writeFileSync(join(ctx.root, path), text)
}

GraphCache.before.each((ctx) => {
  ctx.root = mkdtempSync(join(tmpdir(), 'graph-cache-'))
  ctx.cacheDir = join(ctx.root, 'node_modules', '.cache', 'graphs')
  ctx.asked = 0
  ctx.graph = [
    { taskId: '//#preflight-cluster', task: 'preflight-cluster', directory: '', dependencies: [] },
    { taskId: '@x/a#bootstrap', task: 'bootstrap', directory: 'packages/a', dependencies: ['//#preflight-cluster'] },
  ]
  write(ctx, 'turbo.json', '{"tasks":{}}')
  write(ctx, 'package.json', '{"name":"root"}')
  write(ctx, 'pnpm-workspace.yaml', 'packages: [packages/*]')
  write(ctx, 'node_modules/turbo/package.json', '{"version":"2.11.11"}')
  write(ctx, 'packages/a/package.json', '{"name":"@x/a","scripts":{"bootstrap":"x"}}')
  write(ctx, 'packages/b/package.json', '{"name":"@x/b"}')
})
GraphCache.after.each((ctx) => rmSync(ctx.root, { recursive: true, force: true }))

const graphOf = (ctx: Ctx, argv = ARGV, env: Record<string, string> = {}) =>
  cachedTaskGraph({ root: ctx.root, cacheDir: ctx.cacheDir, argv, env, resolveGraph: async () => (ctx.asked++, structuredClone(ctx.graph)) })

GraphCache('turbo is asked once; the same question is answered from the cache with the same graph', async (ctx) => {
  const first = await graphOf(ctx)
  const second = await graphOf(ctx)
  assert.is(ctx.asked, 1)
  assert.equal(second, first)
  assert.equal(second, ctx.graph)
})

for (const [name, edit] of [
  ['turbo.json', (ctx: Ctx) => write(ctx, 'turbo.json', '{"tasks":{"bootstrap":{}}}')],
  ['a package.json beside the graph\'s packages (a new script)', (ctx: Ctx) => write(ctx, 'packages/b/package.json', '{"name":"@x/b","scripts":{"bootstrap":"y"}}')],
  ['a package turbo.json appearing', (ctx: Ctx) => write(ctx, 'packages/a/turbo.json', '{"extends":["//"]}')],
  ['a new package folder', (ctx: Ctx) => write(ctx, 'packages/c/package.json', '{"name":"@x/c"}')],
  ['the workspace list', (ctx: Ctx) => write(ctx, 'pnpm-workspace.yaml', 'packages: [packages/*, apps/*]')],
  ['turbo\'s version', (ctx: Ctx) => write(ctx, 'node_modules/turbo/package.json', '{"version":"2.12.0"}')],
] as const) {
  GraphCache(`an edit to ${name} has turbo asked again`, async (ctx) => {
    await graphOf(ctx)
    edit(ctx)
    await graphOf(ctx)
    assert.is(ctx.asked, 2)
    await graphOf(ctx)
    assert.is(ctx.asked, 2, 'the new answer was not cached')
  })
}

GraphCache('files rewritten with the same content keep the cache (contents count, not times)', async (ctx) => {
  await graphOf(ctx)
  write(ctx, 'turbo.json', '{"tasks":{}}')
  write(ctx, 'packages/a/package.json', '{"name":"@x/a","scripts":{"bootstrap":"x"}}')
  await graphOf(ctx)
  assert.is(ctx.asked, 1)
})

GraphCache('each argv has its own answer; git-range filters, --affected and TURBO_* settings are never cached', async (ctx) => {
  await graphOf(ctx)
  await graphOf(ctx, [...ARGV, '--filter=@x/a'])
  await graphOf(ctx, [...ARGV, '--filter=@x/a'])
  assert.is(ctx.asked, 2)
  for (let i = 0; i < 2; i++) await graphOf(ctx, [...ARGV, '--filter=...[HEAD^1]'])
  for (let i = 0; i < 2; i++) await graphOf(ctx, [...ARGV, '--affected'])
  for (let i = 0; i < 2; i++) await graphOf(ctx, ARGV, { TURBO_SCM_BASE: 'main' })
  assert.is(ctx.asked, 8)
})

GraphCache('a torn cache file is no answer: turbo is asked and the file written whole again', async (ctx) => {
  await graphOf(ctx)
  const [file] = readdirSync(ctx.cacheDir)
  writeFileSync(join(ctx.cacheDir, file!), '{"argv": ["run"')
  assert.equal(await graphOf(ctx), ctx.graph)
  assert.is(ctx.asked, 2)
  await graphOf(ctx)
  assert.is(ctx.asked, 2)
})

GraphCache('pure parts: the inputs cover the root files and every sibling package; the fingerprint follows content', () => {
  const graph: GraphTask[] = [{ taskId: '@x/a#plan', task: 'plan', directory: 'packages/a', dependencies: [] }]
  const inputs = graphInputs(graph, (dir) => (dir === 'packages' ? ['b', 'a'] : []))
  assert.equal(inputs, ['turbo.json', 'package.json', 'pnpm-workspace.yaml', 'node_modules/turbo/package.json', 'packages/a/package.json', 'packages/a/turbo.json', 'packages/b/package.json', 'packages/b/turbo.json'])
  const files = new Map([['turbo.json', '{}']])
  const before = graphFingerprint(inputs, (p) => files.get(p))
  assert.is(graphFingerprint(inputs, (p) => files.get(p)), before)
  files.set('packages/b/turbo.json', '{}')
  assert.is.not(graphFingerprint(inputs, (p) => files.get(p)), before, 'a file appearing must change the fingerprint')
  assert.ok(cacheableGraphArgv(ARGV, { TURBO_NO_UPDATE_NOTIFIER: '1', TURBO_TELEMETRY_DISABLED: '1' }))
  assert.not.ok(cacheableGraphArgv(ARGV, { TURBO_TEAM: 'x' }))
})

GraphCache.run()
