#!/usr/bin/env node
// `node scripts/run-task.mjs <file.ts> [args…]`: runs a task script like `tsx` does, from a cached single-file bundle.
//
// Why: under tsx, a task spends about two seconds loading before it does anything (thousands of small module files
// of kubernetes-models, client-node and the AWS SDK, each resolved and transformed through loader hooks), and a
// no-op run of the whole pipeline is mostly that. One esbuild bundle per task loads in a fifth of the time.
//
// The bundle is rebuilt when any workspace source it was built from changed (mtime or size differ from the build's,
// older or newer), when one is gone, or when the installed dependencies changed (pnpm-lock.yaml or
// node_modules/.modules.yaml likewise), or when it was built in another checkout (a copy of this one, cache and all).
// So an edit is picked up on the next run, as with tsx; the first run after one pays the build (well under a second
// per task).
// Each module keeps its own import.meta.url/dirname/filename (rewritten to its source path), so files found next to
// the source (manifests/, homelab.example.yaml) are found as they are under tsx.
//
// The bundle is CommonJS when it can be, so V8 can keep what it compiled: Node 20 has no compile cache for ES modules,
// and compiling the 9 MB bundle was half of a task's start. The first run writes V8's code cache next to the bundle
// (named after the build it belongs to), and a later run that lasted much longer writes it again. Runs hand it to V8,
// which checks it against its own version and flags and compiles afresh when it does not fit. (So nothing may set a V8
// flag at run time: the cache written after it would be rejected by every run that loads it before.) An entry's
// top-level await (CommonJS has none) runs in an async function after its imports; an entry that cannot be bundled
// that way (say, one that exports) stays an ES module.
import { mkdirSync, readdirSync, readFileSync, renameSync, rmSync, statSync, writeFileSync } from 'node:fs'
import Module, { createRequire } from 'node:module'
import { basename, dirname, join, relative, resolve } from 'node:path'
import { fileURLToPath, pathToFileURL } from 'node:url'
import { constants as vmConstants, Script } from 'node:vm'

const ROOT = join(dirname(fileURLToPath(import.meta.url)), '..')
// The tests build their throwaway entries elsewhere; a user never sets it.
const CACHE = process.env.HOMELAB_TASK_BUNDLES ?? join(ROOT, 'node_modules', '.cache', 'homelab-devtools', 'tasks')
const DEPENDENCY_MARKERS = [join(ROOT, 'pnpm-lock.yaml'), join(ROOT, 'node_modules', '.modules.yaml')]
const MAIN = '__homelabMain'

/** A file's mtime and size, or null when it is gone: what a build records of each input and a run compares. */
const stamp = (path) => {
  const stat = statSync(path, { throwIfNoEntry: false })
  return stat ? [stat.mtimeMs, stat.size] : null
}
const sameStamp = (a, b) => (a === null || b === null ? a === b : a[0] === b[0] && a[1] === b[1])

const bundleOf = (stem, format) => `${stem}.${format === 'cjs' ? 'cjs' : 'mjs'}`

/**
 * What the last build recorded, if it was built in this checkout from inputs that are still as it found them. Any
 * difference counts, not only a newer mtime: `rsync -a`, `cp -p` and `tar x` put back older mtimes. A manifest from
 * another checkout (`cp -a` copies node_modules/.cache too) names that checkout's files, and its bundle reads them.
 */
function freshBuild(stem) {
  let recorded
  try {
    recorded = JSON.parse(readFileSync(`${stem}.json`, 'utf8'))
  } catch {
    return undefined
  }
  if (recorded.root !== ROOT || !Array.isArray(recorded.inputs)) return undefined
  const stale = recorded.inputs.some(([path, built]) => !sameStamp(stamp(path), built))
  return stale || stamp(bundleOf(stem, recorded.format)) === null ? undefined : recorded
}

/**
 * Each input's stamp as the build found it. One changed since the build began may have been read before or after the
 * change, so it gets a stamp no file has: the next run builds again.
 */
function stampsOf(paths, builtAt) {
  return paths.map((path) => {
    const now = stamp(path)
    return [path, now !== null && now[0] >= builtAt ? [-1, -1] : now]
  })
}

/** Keeps each workspace module's import.meta pointing at its own source file, as it does under tsx. */
const ownImportMeta = (entry, format) => ({
  name: 'own-import-meta',
  setup(build) {
    build.onLoad({ filter: /\.ts$/ }, (args) => {
      if (args.path.includes('/node_modules/')) return undefined
      const source = readFileSync(args.path, 'utf8')
      const contents = source
        .replaceAll('import.meta.url', JSON.stringify(pathToFileURL(args.path).href))
        .replaceAll('import.meta.dirname', JSON.stringify(dirname(args.path)))
        .replaceAll('import.meta.filename', JSON.stringify(args.path))
      return { contents: format === 'cjs' && args.path === entry ? bodyInAsyncFunction(contents) : contents, loader: 'ts' }
    })
  },
})

// Comments, blank space and import declarations: what stays at an entry's top level when its body is wrapped.
const ENTRY_HEAD = /^(?:\s+|\/\/[^\n]*|\/\*[\s\S]*?\*\/|import\s[^'"`;]*?['"][^'"\n]+['"];?|import\s*['"][^'"\n]+['"];?)*/

/** Pure. The entry with everything after its imports run by an async function, whose promise it exports. */
function bodyInAsyncFunction(source) {
  const head = ENTRY_HEAD.exec(source)[0]
  return `${head}\nexport const ${MAIN} = (async () => {\n${source.slice(head.length)}\n})()\n`
}

// CommonJS dependencies bundled into an ES module still call require() and read __dirname.
const ESM_BANNER = [
  "import { createRequire as __homelabCreateRequire } from 'node:module';",
  "import { fileURLToPath as __homelabFileURLToPath } from 'node:url';",
  "import { dirname as __homelabDirname } from 'node:path';",
  'const require = __homelabCreateRequire(import.meta.url);',
  'const __filename = __homelabFileURLToPath(import.meta.url);',
  'const __dirname = __homelabDirname(__filename);',
].join('\n')
// The ES module bundle ran every module in strict mode; the CommonJS one keeps it so.
const CJS_BANNER = '"use strict";'

async function bundleAs(format, entry, bundle) {
  const { build: esbuild } = await import('esbuild').catch(() => {
    process.stderr.write('esbuild is not installed: run `node scripts/setup.mjs` (or `pnpm install`) in the repository first\n')
    process.exit(2)
  })
  return esbuild({
    entryPoints: [entry],
    absWorkingDir: ROOT,
    bundle: true,
    platform: 'node',
    format,
    target: 'node20',
    write: false,
    metafile: true,
    outfile: bundle,
    banner: { js: format === 'cjs' ? CJS_BANNER : ESM_BANNER },
    // Native add-ons stay outside; ssh2 loads its optional ones in try/catch and works without them.
    external: ['*.node', 'cpu-features'],
    plugins: [ownImportMeta(entry, format)],
    logLevel: 'silent',
  })
}

/**
 * Temp file and rename: a process reading it at the same moment gets the old file or the new one, whole (two turbo
 * tasks building the same bundle at once each leave a whole one).
 */
function writeAtomically(path, data, encoding) {
  const temp = `${path}.${process.pid}.tmp`
  try {
    writeFileSync(temp, data, encoding)
    renameSync(temp, path)
  } catch (error) {
    rmSync(temp, { force: true })
    throw error
  }
}

async function build(entry, stem) {
  const builtAt = Date.now()
  let format = 'cjs'
  const result = await bundleAs(format, entry, bundleOf(stem, format)).catch(() => bundleAs((format = 'esm'), entry, bundleOf(stem, format)))
  const bundle = bundleOf(stem, format)
  const { text, encoding } = asciiOutput(result.outputFiles[0].text)
  const sources = Object.keys(result.metafile.inputs).filter((p) => !p.includes('node_modules/')).map((p) => resolve(ROOT, p))
  mkdirSync(dirname(bundle), { recursive: true })
  writeAtomically(bundle, text, encoding)
  rmSync(bundleOf(stem, format === 'cjs' ? 'esm' : 'cjs'), { force: true })
  const stale = basename(codeCacheStem(stem))
  for (const old of readdirSync(dirname(bundle)).filter((f) => f.startsWith(`${stale}.`))) rmSync(join(dirname(bundle), old), { force: true })
  const recorded = { builtAt, root: ROOT, inputs: stampsOf([...sources, ...DEPENDENCY_MARKERS], builtAt), format, encoding }
  writeAtomically(`${stem}.json`, JSON.stringify(recorded))
  return recorded
}

/**
 * Pure. The bundle in ASCII when that changes nothing, so it is read as latin1: decoding 9 MB of UTF-8 costs more
 * than the rest of the read. esbuild already escapes non-ASCII in strings, templates and names; what it leaves is in
 * comments and regular expression literals, where `\uXXXX` means the same UTF-16 unit (a pair, for a code point
 * beyond it, reads as that code point under the `u` flag). Only `\` before such a character would change meaning.
 */
function asciiOutput(text) {
  if (/\\[^\x00-\x7f]/.test(text)) return { text, encoding: 'utf8' }
  return { text: text.replace(/[^\x00-\x7f]/g, (c) => `\\u${c.charCodeAt(0).toString(16).padStart(4, '0')}`), encoding: 'latin1' }
}

const codeCacheStem = (stem) => `${stem}.v8cache`

/**
 * A run that lasts this much longer than the one that wrote the code cache writes it again at its exit. A cache holds
 * only what the run that wrote it compiled: one left by a `--help` lacks most of a bootstrap, which then compiles the
 * rest lazily every time (a no-op pipeline's first line at 0.41 s instead of 0.24 s). A longer run goes through more
 * of the code, and a run that starts from a cache writes a superset of it. Writing costs about 60 ms, so runs no
 * longer than the writer's leave it as it is; run time is the measure because it costs nothing to take (V8's heap
 * code statistics, the direct one, walk the heap: 4 ms a call).
 * Not always a superset, though: V8 drops the bytecode of functions a run has not called for a while at its major
 * collections, and the start-up code is called once. A 13 s bootstrap once left a cache of 4.6 MB where a no-op run
 * leaves 5 MB, and every no-op bootstrap after it compiled start-up code again (0.77 s instead of 0.6 s). So a cache
 * that comes out no larger than the one the run started from is not written, and the writer's time stays what it was.
 */
const REWRITE_WHEN_LONGER = 1.5

/** Runs the CommonJS bundle with V8's code cache of this very build, and keeps that cache fit for the longest runs. */
function runCommonJs(stem, recorded) {
  const bundle = bundleOf(stem, 'cjs')
  const codeCache = `${codeCacheStem(stem)}.${recorded.builtAt}`
  let cachedData
  try {
    cachedData = readFileSync(codeCache)
  } catch {
    cachedData = undefined
  }
  const script = new Script(Module.wrap(readFileSync(bundle, recorded.encoding)), {
    filename: bundle,
    cachedData,
    importModuleDynamically: vmConstants.USE_MAIN_CONTEXT_DEFAULT_LOADER,
  })
  const fits = cachedData !== undefined && !script.cachedDataRejected
  // The task's own time: not Node's start, nor a build of the bundle.
  const started = performance.now()
  process.once('exit', () => {
    const ranMs = Math.round(performance.now() - started)
    if (fits && ranMs < REWRITE_WHEN_LONGER * (recorded.codeCacheRunMs ?? 0)) return
    try {
      const data = script.createCachedData()
      if (fits && data.length <= cachedData.length) return
      writeAtomically(codeCache, data)
      // Unless another run rebuilt the bundle meanwhile: its manifest is the one to keep.
      if (freshBuild(stem)?.builtAt === recorded.builtAt) writeAtomically(`${stem}.json`, JSON.stringify({ ...recorded, codeCacheRunMs: ranMs }))
    } catch {
      // A cache that cannot be written (read-only checkout) only means the next run compiles again.
    }
  })
  const module = { exports: {} }
  script.runInThisContext()(module.exports, createRequire(bundle), module, bundle, dirname(bundle))
  return module.exports[MAIN]
}

const [script, ...args] = process.argv.slice(2)
if (!script) {
  process.stderr.write('usage: node scripts/run-task.mjs <file.ts> [args…]\n')
  process.exit(2)
}
const entry = resolve(script)
const stem = join(CACHE, relative(ROOT, entry).replace(/\.ts$/, '').replaceAll('/', '__'))
const recorded = freshBuild(stem) ?? (await build(entry, stem))
// The task reads its own arguments from process.argv.slice(2), as it would under tsx.
process.argv.splice(1, 2, entry)
if (recorded.format === 'cjs') await runCommonJs(stem, recorded)
else await import(pathToFileURL(bundleOf(stem, 'esm')).href)
