import { createHash } from 'node:crypto'
import { mkdirSync, readdirSync, readFileSync, renameSync, statSync, writeFileSync } from 'node:fs'
import { dirname, join } from 'node:path'
import type { GraphTask } from './task-graph.js'

/** What turbo's answer was resolved from, so a later run can tell whether turbo would answer the same. */
type CachedGraph = { argv: string[]; fingerprint: string; graph: GraphTask[] }

/** Files at the workspace root that decide the graph: the pipeline, the workspace, the scripts, turbo's own version. */
const ROOT_INPUTS = ['turbo.json', 'package.json', 'pnpm-workspace.yaml', join('node_modules', 'turbo', 'package.json')]

/**
 * Pure (given `list`). Every file turbo reads to resolve a graph: the root inputs, and the package.json and turbo.json
 * of every folder beside the graph's packages (a package added, renamed or given a new script shows there).
 */
export function graphInputs(graph: readonly GraphTask[], list: (dir: string) => string[]): string[] {
  const parents = [...new Set(graph.map((t) => dirname(t.directory)).filter((d) => d !== '.' && d !== ''))].sort()
  return [...ROOT_INPUTS, ...parents.flatMap((parent) => list(parent).sort().flatMap((name) => [join(parent, name, 'package.json'), join(parent, name, 'turbo.json')]))]
}

/** Pure (given `read`). Contents, not times: a checkout that rewrites the files unchanged keeps its cache. */
export function graphFingerprint(inputs: readonly string[], read: (path: string) => string | undefined): string {
  const hash = createHash('sha256')
  for (const path of inputs) hash.update(`${path}\0${read(path) ?? '<absent>'}\0`)
  return hash.digest('hex')
}

/*
 * A graph from git state (`--filter=...[HEAD^]`, `--affected`) moves with every commit and is never cached; neither is
 * one turbo was steered to by its own environment variables, which the fingerprint does not see.
 */
export function cacheableGraphArgv(argv: readonly string[], env: Readonly<Record<string, string | undefined>>): boolean {
  const steered = Object.keys(env).some((k) => k.startsWith('TURBO_') && k !== 'TURBO_NO_UPDATE_NOTIFIER' && k !== 'TURBO_TELEMETRY_DISABLED')
  return !steered && !argv.some((a) => a.includes('[') || a === '--affected')
}

const readText = (path: string): string | undefined => {
  try {
    return readFileSync(path, 'utf8')
  } catch (error) {
    if ((error as NodeJS.ErrnoException).code === 'ENOENT') return undefined
    throw error
  }
}
const modifiedSince = (path: string, time: number): boolean => {
  try {
    return statSync(path).mtimeMs > time
  } catch (error) {
    if ((error as NodeJS.ErrnoException).code === 'ENOENT') return false
    throw error
  }
}
const listDir = (dir: string): string[] => {
  try {
    return readdirSync(dir)
  } catch (error) {
    if ((error as NodeJS.ErrnoException).code === 'ENOENT') return []
    throw error
  }
}

/**
 * Turbo's graph for `argv`, from `resolveGraph` (one turbo process: 0.1 to 0.2 s, most of a no-op pipeline's own
 * overhead) or, when nothing turbo reads has changed since it last answered the same question, from `cacheDir`.
 * A cache that cannot be read or written is only a cache: the graph comes from turbo.
 */
export async function cachedTaskGraph(options: {
  root: string
  cacheDir: string
  argv: readonly string[]
  env: Readonly<Record<string, string | undefined>>
  resolveGraph: () => Promise<GraphTask[]>
}): Promise<GraphTask[]> {
  const { root, cacheDir, argv } = options
  if (!cacheableGraphArgv(argv, options.env)) return options.resolveGraph()
  const file = join(cacheDir, `${createHash('sha256').update(JSON.stringify(argv)).digest('hex').slice(0, 24)}.json`)
  const read = (path: string) => readText(join(root, path))
  const list = (dir: string) => listDir(join(root, dir))
  const cached = parseCached(readText(file))
  if (cached && JSON.stringify(cached.argv) === JSON.stringify(argv) && cached.fingerprint === graphFingerprint(graphInputs(cached.graph, list), read)) return cached.graph
  // Sub-millisecond, like mtimes: a file saved just before this run is not taken for one saved during it.
  const asked = performance.timeOrigin + performance.now()
  const graph = await options.resolveGraph()
  const inputs = graphInputs(graph, list)
  // An edit while turbo was resolving would pair the new files with the old answer: keep none then.
  if (inputs.some((path) => modifiedSince(join(root, path), asked))) return graph
  const entry: CachedGraph = { argv: [...argv], fingerprint: graphFingerprint(inputs, read), graph }
  try {
    mkdirSync(cacheDir, { recursive: true })
    writeFileSync(`${file}.${process.pid}.tmp`, JSON.stringify(entry))
    renameSync(`${file}.${process.pid}.tmp`, file)
  } catch {
    // Read-only checkout: every run asks turbo, as it did before there was a cache.
  }
  return graph
}

function parseCached(text: string | undefined): CachedGraph | undefined {
  if (text === undefined) return undefined
  try {
    const parsed = JSON.parse(text) as CachedGraph
    return Array.isArray(parsed.graph) && Array.isArray(parsed.argv) && typeof parsed.fingerprint === 'string' ? parsed : undefined
  } catch {
    // A torn or foreign file is no answer: turbo is asked again and the file rewritten.
    return undefined
  }
}
