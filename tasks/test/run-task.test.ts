// scripts/run-task.mjs, the way every task script starts: a cached bundle, CommonJS with V8's code cache where it can
// be, rebuilt when a source changes. Throwaway entries in the repository's ignored .tmp/ (so they resolve the
// workspace's packages, as tasks do); their bundles in a cache folder of their own.
import { spawnSync } from 'node:child_process'
import { copyFileSync, cpSync, mkdirSync, mkdtempSync, readdirSync, readFileSync, rmSync, statSync, symlinkSync, utimesSync, writeFileSync } from 'node:fs'
import { tmpdir } from 'node:os'
import { basename, join } from 'node:path'
import { suite } from 'uvu'
import * as assert from 'uvu/assert'
import { REPO_ROOT } from '../lab/run-tool-process.js'

type Ctx = { dir: string; cache: string }
const RunTask = suite<Ctx>('run-task: cached bundles and code cache', {} as Ctx)

RunTask.before((ctx) => {
  mkdirSync(join(REPO_ROOT, '.tmp'), { recursive: true })
  ctx.dir = mkdtempSync(join(REPO_ROOT, '.tmp', 'run-task-entries-'))
  ctx.cache = mkdtempSync(join(tmpdir(), 'run-task-bundles-'))
})
RunTask.after((ctx) => {
  rmSync(ctx.dir, { recursive: true, force: true })
  rmSync(ctx.cache, { recursive: true, force: true })
})

function run(ctx: Ctx, entry: string, args: string[] = []) {
  const result = spawnSync(process.execPath, [join(REPO_ROOT, 'scripts', 'run-task.mjs'), entry, ...args], {
    cwd: REPO_ROOT,
    env: { ...process.env, HOMELAB_TASK_BUNDLES: ctx.cache },
    encoding: 'utf8',
  })
  return { code: result.status, stdout: result.stdout, stderr: result.stderr }
}

const filesOf = (ctx: Ctx, stem: string) => readdirSync(ctx.cache).filter((f) => f.startsWith(`${stem}.`)).sort()
const manifestOf = (ctx: Ctx, stem: string) => JSON.parse(readFileSync(join(ctx.cache, `${stem}.json`), 'utf8')) as { format: string; encoding: string; builtAt: number; codeCacheRunMs?: number }
/** The name run-task gave an entry's files (its path from the repository root, `/` as `__`). */
function stemFor(ctx: Ctx, entry: string): string {
  const json = readdirSync(ctx.cache).find((f) => f.endsWith('.json') && f.includes(entry.split('/').pop()!.replace(/\.ts$/, '')))
  assert.ok(json, `no manifest for ${entry} in ${readdirSync(ctx.cache).join(', ')}`)
  return json.replace(/\.json$/, '')
}

/** A throwaway entry of these lines; its path. */
function entryOf(ctx: Ctx, name: string, lines: readonly string[]): string {
  const entry = join(ctx.dir, name)
  writeFileSync(entry, [...lines, ''].join('\n'))
  return entry
}

RunTask('an entry with top-level await runs from a CommonJS bundle: its arguments, its exit code, its imports', (ctx) => {
  const entry = entryOf(ctx, 'awaits.ts', [
    "import { setTimeout as sleep } from 'node:timers/promises'",
    "import { EXIT } from '@homelab/core'",
    '',
    'const waited = await sleep(5, "slept")',
    'console.log(JSON.stringify({ args: process.argv.slice(2), waited, usage: EXIT.usage }))',
    'process.exitCode = 7',
  ])
  const first = run(ctx, entry, ['--flag', 'value'])
  assert.is(first.code, 7, first.stderr)
  assert.equal(JSON.parse(first.stdout), { args: ['--flag', 'value'], waited: 'slept', usage: 2 })
  const stem = stemFor(ctx, entry)
  assert.is(manifestOf(ctx, stem).format, 'cjs')
  assert.ok(filesOf(ctx, stem).includes(`${stem}.cjs`))
})

RunTask('a cache left by a short run is written again by a longer one, which compiles more, then left as it is', (ctx) => {
  const entry = join(ctx.dir, 'cached.ts')
  // Without --parse the run is short and compiles little; with it, the config parser too, and it lasts a second
  // longer (as a bootstrap does, after a --help): the cache it leaves must hold more.
  writeFileSync(entry, "import { parseConfig } from '@homelab/core'\nif (process.argv.includes('--parse')) await new Promise((r) => setTimeout(r, 1000))\nconsole.log(JSON.stringify(process.argv.includes('--parse') ? parseConfig('domain: cached.example', { sourceName: 'x', baseDir: '/', env: {} }).domain : 'idle'))\n")
  const first = run(ctx, entry)
  assert.is(first.code, 0, first.stderr)
  const stem = stemFor(ctx, entry)
  const cache = join(ctx.cache, `${stem}.v8cache.${manifestOf(ctx, stem).builtAt}`)
  const idleSize = statSync(cache).size
  assert.is(JSON.parse(run(ctx, entry, ['--parse']).stdout), 'cached.example')
  assert.ok(statSync(cache).size > idleSize, `the cache after parsing (${statSync(cache).size} bytes) holds no more than the idle run's (${idleSize})`)
  const written = statSync(cache).mtimeMs
  // Neither run lasts half as long again as the one that wrote it (a rejected cache would be written again).
  assert.is(JSON.parse(run(ctx, entry, ['--parse']).stdout), 'cached.example')
  assert.is(JSON.parse(run(ctx, entry).stdout), 'idle')
  assert.is(statSync(cache).mtimeMs, written, 'the code cache was written again')
  assert.equal(filesOf(ctx, stem).filter((f) => f.includes('.v8cache.')), [basename(cache)])
})

RunTask('a longer run whose code cache came out smaller (bytecode V8 dropped) leaves the larger one in place', (ctx) => {
  // With --flush the run lasts longer and has V8 drop what bytecode it can (as a long run's collections do on their
  // own), so the cache it would write holds less than the one it started from.
  const entry = entryOf(ctx, 'flushed.ts', [
    "import { setFlagsFromString } from 'node:v8'",
    "import { runInNewContext } from 'node:vm'",
    "import { parseConfig } from '@homelab/core'",
    "console.log(JSON.stringify(parseConfig('domain: flushed.example', { sourceName: 'x', baseDir: '/', env: {} }).domain))",
    "if (process.argv.includes('--flush')) {",
    "  setFlagsFromString('--expose-gc')",
    "  setFlagsFromString('--stress-flush-code')",
    "  const gc = runInNewContext('gc') as () => void",
    '  for (let i = 0; i < 8; i++) {',
    '    gc()',
    '    await new Promise((resolve) => setTimeout(resolve, 100))',
    '  }',
    '}',
  ])
  assert.is(JSON.parse(run(ctx, entry).stdout), 'flushed.example')
  const stem = stemFor(ctx, entry)
  const cache = join(ctx.cache, `${stem}.v8cache.${manifestOf(ctx, stem).builtAt}`)
  const before = statSync(cache)
  const writer = manifestOf(ctx, stem).codeCacheRunMs
  const flushed = run(ctx, entry, ['--flush'])
  assert.is(flushed.code, 0, flushed.stderr)
  const after = statSync(cache)
  assert.is(after.size, before.size, 'a smaller cache replaced the one the run started from')
  assert.is(after.mtimeMs, before.mtimeMs)
  // Still the short run's time: a run longer than it, whose cache holds more, may still write it.
  assert.is(manifestOf(ctx, stem).codeCacheRunMs, writer)
})

RunTask('an edited entry is rebuilt: the new code runs and the old build\'s code cache is gone', async (ctx) => {
  const entry = join(ctx.dir, 'edited.ts')
  writeFileSync(entry, "console.log('before')\n")
  assert.is(run(ctx, entry).stdout.trim(), 'before')
  const stem = stemFor(ctx, entry)
  const oldBuild = manifestOf(ctx, stem).builtAt
  await new Promise((resolve) => setTimeout(resolve, 20))
  writeFileSync(entry, "console.log('after')\n")
  assert.is(run(ctx, entry).stdout.trim(), 'after')
  const newBuild = manifestOf(ctx, stem).builtAt
  assert.ok(newBuild > oldBuild)
  assert.equal(filesOf(ctx, stem).filter((f) => f.includes('.v8cache.')), [`${stem}.v8cache.${newBuild}`])
})

RunTask('an import edited with an older mtime (rsync -a, cp -p, tar x) is rebuilt, same size or not', (ctx) => {
  const entry = join(ctx.dir, 'restored.ts')
  const lib = join(ctx.dir, 'restored-lib.ts')
  writeFileSync(lib, "export const word: string = 'one'\n")
  writeFileSync(entry, "import { word } from './restored-lib.js'\nconsole.log(word)\n")
  assert.is(run(ctx, entry).stdout.trim(), 'one')
  // An hour before the build, as a restored backup or a synced tree leaves it.
  const past = new Date(Date.now() - 3_600_000)
  for (const [content, want] of [["export const word: string = 'two'\n", 'two'], ["export const word: string = 'three'\n", 'three']] as const) {
    writeFileSync(lib, content)
    utimesSync(lib, past, past)
    assert.is(run(ctx, entry).stdout.trim(), want)
  }
})

RunTask('a copied checkout (cache and all) builds its own bundle: its entry runs its own files, not the original\'s', (ctx) => {
  // A checkout of its own: run-task.mjs, the workspace's node_modules (esbuild), and a task that names where it is.
  const original = join(ctx.dir, 'checkout')
  mkdirSync(join(original, 'scripts'), { recursive: true })
  mkdirSync(join(original, 'tasks'), { recursive: true })
  copyFileSync(join(REPO_ROOT, 'scripts', 'run-task.mjs'), join(original, 'scripts', 'run-task.mjs'))
  symlinkSync(join(REPO_ROOT, 'node_modules'), join(original, 'node_modules'))
  writeFileSync(join(original, 'pnpm-lock.yaml'), 'lockfileVersion: 9.0\n')
  writeFileSync(join(original, 'tasks', 'where.ts'), 'console.log(import.meta.dirname)\n')
  const runIn = (checkout: string) => {
    const result = spawnSync(process.execPath, [join(checkout, 'scripts', 'run-task.mjs'), join(checkout, 'tasks', 'where.ts')], {
      cwd: checkout,
      env: { ...process.env, HOMELAB_TASK_BUNDLES: join(checkout, '.bundles') },
      encoding: 'utf8',
    })
    assert.is(result.status, 0, result.stderr)
    return result.stdout.trim()
  }
  assert.is(runIn(original), join(original, 'tasks'))
  const copy = join(ctx.dir, 'checkout-copy')
  cpSync(original, copy, { recursive: true, preserveTimestamps: true, verbatimSymlinks: true })
  assert.is(runIn(copy), join(copy, 'tasks'))
  assert.is(runIn(original), join(original, 'tasks'))
})

RunTask('an entry that exports (no CommonJS wrapping possible) runs as an ES module bundle', (ctx) => {
  const entry = join(ctx.dir, 'exports.ts')
  writeFileSync(entry, "export const answer = 42\nconsole.log(await Promise.resolve(answer))\n")
  const result = run(ctx, entry)
  assert.is(result.code, 0, result.stderr)
  assert.is(result.stdout.trim(), '42')
  const stem = stemFor(ctx, entry)
  assert.is(manifestOf(ctx, stem).format, 'esm')
  assert.ok(filesOf(ctx, stem).includes(`${stem}.mjs`))
})

RunTask('non-ASCII in strings, comments and regular expressions survives the ASCII bundle read as latin1', (ctx) => {
  const entry = join(ctx.dir, 'unicode.ts')
  writeFileSync(entry, [
    '// “quoted” § comment',
    "const text = 'grüße ✓ 😀'",
    'const pattern = /ü+/',
    'console.log(JSON.stringify({ text, match: pattern.exec("züüg")?.[0], length: [...text].length }))',
    '',
  ].join('\n'))
  const result = run(ctx, entry)
  assert.is(result.code, 0, result.stderr)
  assert.equal(JSON.parse(result.stdout), { text: 'grüße ✓ 😀', match: 'üü', length: 9 })
  assert.is(manifestOf(ctx, stemFor(ctx, entry)).encoding, 'latin1')
})

RunTask('an entry that throws exits non-zero with its message, as under tsx', (ctx) => {
  const entry = join(ctx.dir, 'throws.ts')
  writeFileSync(entry, "await Promise.resolve()\nthrow new Error('entry failed on purpose')\n")
  const result = run(ctx, entry)
  assert.ok(result.code !== 0)
  assert.match(result.stderr, /entry failed on purpose/)
})

RunTask.run()
