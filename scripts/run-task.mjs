#!/usr/bin/env node
// `node scripts/run-task.mjs <file.ts> [args…]`: runs a task script like `tsx` does, from a cached single-file bundle.
//
// Why: under tsx, a task spends about two seconds loading before it does anything (thousands of small module files
// of kubernetes-models, client-node and the AWS SDK, each resolved and transformed through loader hooks), and a
// no-op run of the whole pipeline is mostly that. One esbuild bundle per task loads in a fifth of the time.
//
// The bundle is rebuilt when any workspace source it was built from changed (mtime), when one is gone, or when the
// installed dependencies changed (pnpm-lock.yaml or node_modules/.modules.yaml newer than the bundle). So an edit is
// picked up on the next run, as with tsx; the first run after one pays the build (well under a second per task).
// Each module keeps its own import.meta.url/dirname/filename (rewritten to its source path), so files found next to
// the source (manifests/, homelab.example.yaml) are found as they are under tsx.
import { mkdirSync, readFileSync, renameSync, statSync, writeFileSync } from 'node:fs'
import { dirname, join, relative, resolve } from 'node:path'
import { fileURLToPath, pathToFileURL } from 'node:url'

const ROOT = join(dirname(fileURLToPath(import.meta.url)), '..')
const CACHE = join(ROOT, 'node_modules', '.cache', 'homelab-devtools', 'tasks')
const DEPENDENCY_MARKERS = [join(ROOT, 'pnpm-lock.yaml'), join(ROOT, 'node_modules', '.modules.yaml')]

const mtime = (path) => {
  try {
    return statSync(path).mtimeMs
  } catch {
    return Infinity
  }
}

/** The bundle for `entry` if it is at least as new as everything it was built from, else undefined. */
function freshBundle(bundle, manifest) {
  let recorded
  try {
    recorded = JSON.parse(readFileSync(manifest, 'utf8'))
  } catch {
    return undefined
  }
  const stale = [...recorded.sources, ...DEPENDENCY_MARKERS].some((path) => mtime(path) > recorded.builtAt)
  return stale || mtime(bundle) === Infinity ? undefined : bundle
}

/** Keeps each workspace module's import.meta pointing at its own source file, as it does under tsx. */
const ownImportMeta = {
  name: 'own-import-meta',
  setup(build) {
    build.onLoad({ filter: /\.ts$/ }, (args) => {
      if (args.path.includes('/node_modules/')) return undefined
      const source = readFileSync(args.path, 'utf8')
      const contents = source
        .replaceAll('import.meta.url', JSON.stringify(pathToFileURL(args.path).href))
        .replaceAll('import.meta.dirname', JSON.stringify(dirname(args.path)))
        .replaceAll('import.meta.filename', JSON.stringify(args.path))
      return { contents, loader: 'ts' }
    })
  },
}

// CommonJS dependencies bundled into an ES module still call require() and read __dirname.
const BANNER = [
  "import { createRequire as __homelabCreateRequire } from 'node:module';",
  "import { fileURLToPath as __homelabFileURLToPath } from 'node:url';",
  "import { dirname as __homelabDirname } from 'node:path';",
  'const require = __homelabCreateRequire(import.meta.url);',
  'const __filename = __homelabFileURLToPath(import.meta.url);',
  'const __dirname = __homelabDirname(__filename);',
].join('\n')

async function build(entry, bundle, manifest) {
  const builtAt = Date.now()
  const { build: esbuild } = await import('esbuild').catch(() => {
    process.stderr.write('esbuild is not installed: run `node scripts/setup.mjs` (or `pnpm install`) in the repository first\n')
    process.exit(2)
  })
  const result = await esbuild({
    entryPoints: [entry],
    absWorkingDir: ROOT,
    bundle: true,
    platform: 'node',
    format: 'esm',
    target: 'node20',
    write: false,
    metafile: true,
    outfile: bundle,
    banner: { js: BANNER },
    // Native add-ons stay outside; ssh2 loads its optional ones in try/catch and works without them.
    external: ['*.node', 'cpu-features'],
    plugins: [ownImportMeta],
    logLevel: 'error',
  })
  const sources = Object.keys(result.metafile.inputs).filter((p) => !p.includes('node_modules/')).map((p) => resolve(ROOT, p))
  mkdirSync(dirname(bundle), { recursive: true })
  // Temp file and rename: two turbo tasks building the same bundle at once each leave a whole one.
  const temp = `${bundle}.${process.pid}.tmp`
  writeFileSync(temp, result.outputFiles[0].contents)
  renameSync(temp, bundle)
  writeFileSync(`${manifest}.${process.pid}.tmp`, JSON.stringify({ builtAt, sources }))
  renameSync(`${manifest}.${process.pid}.tmp`, manifest)
  return bundle
}

const [script, ...args] = process.argv.slice(2)
if (!script) {
  process.stderr.write('usage: node scripts/run-task.mjs <file.ts> [args…]\n')
  process.exit(2)
}
const entry = resolve(script)
const name = relative(ROOT, entry).replace(/\.ts$/, '').replaceAll('/', '__')
const bundle = join(CACHE, `${name}.mjs`)
const manifest = join(CACHE, `${name}.json`)
const target = freshBundle(bundle, manifest) ?? (await build(entry, bundle, manifest))
// The task reads its own arguments from process.argv.slice(2), as it would under tsx.
process.argv.splice(1, 2, entry)
await import(pathToFileURL(target).href)
