import { chmodSync, copyFileSync, cpSync, existsSync, mkdirSync, readdirSync, readFileSync, readlinkSync, renameSync, rmSync } from 'node:fs'
import { join } from 'node:path'
import { setTimeout as sleep } from 'node:timers/promises'
import { enableDebianSources } from './debian-packages.js'
import { checkSourcePackage, removeStaleSourceFiles } from './dsc-checksums.js'
import { LabStateError } from './errors/lab-state-error.js'
import { cachePaths, type CachePaths } from './lab-paths.js'
import { withLockFile } from './lock-file.js'
import { runProgram, type RunProgram } from './run-program.js'

export type KubeApiserverBuildOptions = {
  cacheDir: string
  run?: RunProgram
  onProgress?: (message: string) => void
  /** Where APT's source lists are; default `/etc/apt`. */
  aptDir?: string
}

export type KubeApiserverBinary = { binary: string; version: string; built: boolean }

const DEBIAN_REFLECT2 = '/usr/share/gocode/src/github.com/modern-go/reflect2'

/** `Kubernetes v1.20.2` when the binary exists and runs, undefined when it does not. */
export async function kubeApiserverVersion(binary: string, run: RunProgram = runProgram): Promise<string | undefined> {
  if (!existsSync(binary)) return undefined
  const { code, stdout } = await run([binary, '--version'], { allowFailure: true })
  return code === 0 && stdout.startsWith('Kubernetes v') ? stdout.trim() : undefined
}

/** Builds `<cache>/bin/kube-apiserver` once; a second call, or a concurrent one, finds it and returns at once. */
export async function ensureKubeApiserver(options: KubeApiserverBuildOptions): Promise<KubeApiserverBinary> {
  const run = options.run ?? runProgram
  const progress = options.onProgress ?? (() => {})
  const paths = cachePaths(options.cacheDir)
  const found = await kubeApiserverVersion(paths.kubeApiserver, run)
  if (found) return { binary: paths.kubeApiserver, version: found, built: false }
  for (const dir of [paths.cacheDir, paths.binDir, paths.srcDir, paths.homeDir]) mkdirSync(dir, { recursive: true })
  const onWait = (pid: number) => progress(`kube-apiserver is being built by pid ${pid}; waiting for it`)
  return withLockFile(paths.buildLock, async () => {
    await waitForBuildsInTree(paths.srcDir, progress)
    const builtMeanwhile = await kubeApiserverVersion(paths.kubeApiserver, run)
    if (builtMeanwhile) return { binary: paths.kubeApiserver, version: builtMeanwhile, built: false }
    return buildKubeApiserver({ paths, run, progress, aptDir: options.aptDir })
  }, { onWait })
}

type BuildContext = { paths: CachePaths; run: RunProgram; progress: (message: string) => void; aptDir: string | undefined }

async function buildKubeApiserver(context: BuildContext): Promise<KubeApiserverBinary> {
  const { paths, run, progress } = context
  const tree = await fetchKubernetesSource(context)
  swapReflect2(tree)
  progress(`building kube-apiserver from ${tree} (about 4 minutes on 2 cores); log: ${paths.buildLog}`)
  await run(['env', `HOME=${paths.homeDir}`, 'CGO_ENABLED=0', `GOPATH=${join(tree, '.go')}`, 'make', 'WHAT=cmd/kube-apiserver'], {
    cwd: tree, logFile: paths.buildLog, hint: `see ${paths.buildLog}; delete ${tree} to start from a fresh source tree`,
  })
  const staged = `${paths.kubeApiserver}.new`
  copyFileSync(join(tree, '_output', 'bin', 'kube-apiserver'), staged)
  chmodSync(staged, 0o755)
  renameSync(staged, paths.kubeApiserver)
  const version = await kubeApiserverVersion(paths.kubeApiserver, run)
  if (!version) {
    throw new LabStateError(`the freshly built ${paths.kubeApiserver} does not answer --version`, {
      path: paths.kubeApiserver, hint: `see ${paths.buildLog}`,
    })
  }
  progress(`built ${version}`)
  return { binary: paths.kubeApiserver, version, built: true }
}

function unpackedTree(srcDir: string): string | undefined {
  const name = readdirSync(srcDir).find((entry) => /^kubernetes-\d/.test(entry) && existsSync(join(srcDir, entry, 'Makefile')))
  return name === undefined ? undefined : join(srcDir, name)
}

/**
 * `apt-get source --download-only kubernetes`, unpacked; an earlier download or tree is reused. A download is used
 * only when its tarball matches the .dsc's size and sha256: a stopped download leaves a cut-off file under its final
 * name, which is deleted and fetched again.
 */
async function fetchKubernetesSource({ paths, run, progress, aptDir }: BuildContext): Promise<string> {
  const existing = unpackedTree(paths.srcDir)
  if (existing) return existing
  const earlier = checkSourcePackage(paths.srcDir, 'kubernetes')
  let tarball = earlier.tarball
  if (!tarball) {
    if (earlier.stale.length > 0) progress(`deleting an incomplete earlier download (${earlier.problems.join('; ')})`)
    removeStaleSourceFiles(paths.srcDir, earlier)
    progress('downloading the kubernetes source package (34 MB)')
    if (enableDebianSources(aptDir)) await run(['apt-get', 'update'])
    await run(['apt-get', 'source', '--download-only', 'kubernetes'], { cwd: paths.srcDir, hint: 'check that deb-src is enabled and the mirror is reachable' })
    const fetched = checkSourcePackage(paths.srcDir, 'kubernetes')
    tarball = fetched.tarball
    if (!tarball) {
      throw new LabStateError(`apt-get source left no kubernetes source matching its .dsc in ${paths.srcDir}: ${fetched.problems.join('; ')}`, {
        path: paths.srcDir, hint: 'the next `pnpm lab up` deletes these files and downloads again; if that keeps failing, check the mirror',
      })
    }
  }
  // Unpack aside and rename, so an interrupted tar never looks like a complete tree.
  const staging = join(paths.srcDir, '.unpack')
  rmSync(staging, { recursive: true, force: true })
  mkdirSync(staging)
  // GNU tar picks the decompressor from the file (a .orig.tar.gz today; .xz is what the .dsc check also accepts).
  await run(['tar', 'xf', join(paths.srcDir, tarball), '-C', staging])
  const top = readdirSync(staging).find((entry) => entry.startsWith('kubernetes-'))
  if (!top) throw new LabStateError(`${tarball} holds no kubernetes-* folder`, { path: join(paths.srcDir, tarball) })
  renameSync(join(staging, top), join(paths.srcDir, top))
  rmSync(staging, { recursive: true, force: true })
  return join(paths.srcDir, top)
}

// With the vendored reflect2 1.0.1, Go 1.19 builds crash at random (SIGSEGV in json-iterator map iteration).
function swapReflect2(tree: string): void {
  const vendored = join(tree, 'vendor', 'github.com', 'modern-go', 'reflect2')
  if (!existsSync(DEBIAN_REFLECT2)) {
    throw new LabStateError(`${DEBIAN_REFLECT2} not found`, { path: DEBIAN_REFLECT2, hint: 'apt-get install golang-github-modern-go-reflect2-dev' })
  }
  rmSync(vendored, { recursive: true, force: true })
  cpSync(DEBIAN_REFLECT2, vendored, { recursive: true })
  rmSync(join(vendored, 'go.mod'), { force: true })
}

const BUILD_COMMANDS = new Set(['make', 'go'])

/** Pids of `make` or `go` processes working inside `dir`: a build started by hand, without our lock. */
function buildsWorkingIn(dir: string): number[] {
  const pids = readdirSync('/proc').filter((entry) => /^\d+$/.test(entry) && Number(entry) !== process.pid)
  return pids.filter((pid) => {
    const cwd = procEntry(() => readlinkSync(`/proc/${pid}/cwd`))
    const command = procEntry(() => readFileSync(`/proc/${pid}/comm`, 'utf8').trim())
    return cwd !== undefined && command !== undefined && BUILD_COMMANDS.has(command) && (cwd === dir || cwd.startsWith(`${dir}/`))
  }).map(Number)
}

/** Reads one /proc entry; undefined when the process exited meanwhile or is not ours to inspect. */
function procEntry(read: () => string): string | undefined {
  try {
    return read()
  } catch (error) {
    if (['ENOENT', 'ESRCH', 'EACCES'].includes((error as NodeJS.ErrnoException).code ?? '')) return undefined
    throw error
  }
}

async function waitForBuildsInTree(srcDir: string, progress: (m: string) => void): Promise<void> {
  let reported = false
  for (let pids = buildsWorkingIn(srcDir); pids.length > 0; pids = buildsWorkingIn(srcDir)) {
    if (!reported) progress(`a build is already running in ${srcDir} (pids ${pids.join(' ')}); waiting for it to finish`)
    reported = true
    await sleep(2_000)
  }
}
