#!/usr/bin/env node
// Makes a fresh Debian machine with only Node 20 ready for the tool: pnpm and node_modules. (The lab installs its
// own Debian packages and builds when it first comes up.) Plain Node with no dependencies, because it runs before anything is installed.
// Every step checks first, so a second run costs a second or two.
import { spawnSync } from 'node:child_process'
import { existsSync, readFileSync, realpathSync, statSync } from 'node:fs'
import { createRequire } from 'node:module'
import { dirname, join } from 'node:path'
import { fileURLToPath } from 'node:url'

const root = join(dirname(fileURLToPath(import.meta.url)), '..')
const pkg = JSON.parse(readFileSync(join(root, 'package.json'), 'utf8'))
const pnpmVersion = pkg.packageManager.replace(/^pnpm@/, '')
const log = (msg) => process.stderr.write(`setup: ${msg}\n`)

function run(cmd, args, opts = {}) {
  const r = spawnSync(cmd, args, { stdio: 'inherit', cwd: root, ...opts })
  if (r.status !== 0) {
    log(`'${cmd} ${args.join(' ')}' failed (exit ${r.status ?? r.signal})`)
    process.exit(r.status || 1)
  }
}

function pnpmOnPath() {
  const r = spawnSync('pnpm', ['--version'], { encoding: 'utf8' })
  return r.status === 0 ? r.stdout.trim() : undefined
}

/** The file the `pnpm` on PATH runs, with links resolved; undefined when there is none. */
function pnpmLauncher() {
  const r = spawnSync('sh', ['-c', 'command -v pnpm'], { encoding: 'utf8' })
  try {
    return r.status === 0 ? realpathSync(r.stdout.trim()) : undefined
  } catch {
    return undefined
  }
}

function resolvesFrom(file, name) {
  try {
    createRequire(file).resolve(name)
    return true
  } catch {
    return false
  }
}

/** Whether npm's global folder holds this package (installed by an earlier setup, or by hand). */
function globalPackage(name) {
  return spawnSync('npm', ['ls', '--global', '--depth=0', name], { encoding: 'utf8' }).status === 0
}

/** `npm <args> --global`, reporting success rather than ending setup. */
function npmGlobal(args) {
  return spawnSync('npm', [...args, '--global', '--no-fund', '--no-audit'], { stdio: 'inherit', cwd: root }).status === 0
}

/** The version the pnpm in npm's global bin folder reports (not whichever pnpm comes first on PATH). */
function globalPnpmVersion() {
  const prefix = spawnSync('npm', ['prefix', '--global'], { encoding: 'utf8' }).stdout?.trim()
  if (!prefix) return undefined
  const r = spawnSync(join(prefix, 'bin', 'pnpm'), ['--version'], { encoding: 'utf8', cwd: '/' })
  return r.status === 0 ? r.stdout.trim() : undefined
}

// The platforms @pnpm/exe has a build for (its optional dependencies): elsewhere (32-bit ARM) its preinstall fails.
const STANDALONE_PLATFORMS = new Set(['linux-x64', 'linux-arm64', 'darwin-x64', 'darwin-arm64', 'win32-x64', 'win32-arm64'])

/**
 * pnpm from npm, pinned (corepack cannot verify pnpm's signatures against this machine's registry), as @pnpm/exe:
 * pnpm's own standalone build, the one pnpm's install script installs. It starts in about 0.2 s, where the JavaScript
 * package takes 0.35 s on Node 20 even with v8-compile-cache, and every pnpm command pays that start, `pnpm turbo
 * bootstrap` included. npm links one package per bin name, so a JavaScript pnpm in npm's global folder goes first,
 * and only once the registry has shown it serves the standalone build: a registry that cannot leaves the pnpm there
 * is in place. If the standalone build does not install or answer, the JavaScript package goes in instead.
 */
function installPnpm() {
  if (STANDALONE_PLATFORMS.has(`${process.platform}-${process.arch}`) && spawnSync('npm', ['view', `@pnpm/exe@${pnpmVersion}`, 'version'], { encoding: 'utf8' }).status === 0) {
    if (globalPackage('pnpm') && !npmGlobal(['uninstall', 'pnpm'])) process.exit(1)
    if (npmGlobal(['install', '--allow-scripts=@pnpm/exe', `@pnpm/exe@${pnpmVersion}`]) && globalPnpmVersion() === pnpmVersion) return
    log(`@pnpm/exe@${pnpmVersion} did not install or does not answer here; installing the JavaScript pnpm@${pnpmVersion} instead`)
    npmGlobal(['uninstall', '@pnpm/exe'])
  }
  run('npm', ['install', '--global', '--no-fund', '--no-audit', `pnpm@${pnpmVersion}`])
}

const have = pnpmOnPath()
if (have !== pnpmVersion) {
  log(have ? `pnpm ${have} found, installing the pinned ${pnpmVersion}` : `installing pnpm ${pnpmVersion} with npm`)
  installPnpm()
  const now = pnpmOnPath()
  if (now !== pnpmVersion) log(`warning: the pnpm on PATH (${now ?? 'none'}, ${pnpmLauncher() ?? '?'}) is not the pinned ${pnpmVersion}, which npm installed in its global folder; put that folder's bin first on PATH`)
}

// A JavaScript pnpm (one the user installed at the pinned version) loads v8-compile-cache when it can find it, for
// Node < 22 (which has no compile cache of its own): pnpm then compiles less of its 8 MB bundle on every start, about
// 0.08 s off every pnpm command here. npm's global folder is on its launcher's module path, so that is where it goes,
// when pnpm itself was installed there. (The standalone build has its own cache and is no JavaScript file.)
const COMPILE_CACHE = 'v8-compile-cache@2.4.0'
const launcher = pnpmLauncher()
if (Number(process.versions.node.split('.')[0]) < 22 && launcher?.endsWith('.cjs') && !resolvesFrom(launcher, 'v8-compile-cache')) {
  const globalRoot = spawnSync('npm', ['root', '--global'], { encoding: 'utf8' }).stdout?.trim()
  if (globalRoot && launcher.startsWith(`${globalRoot}/`)) {
    log(`installing ${COMPILE_CACHE} next to pnpm, which loads it to start faster on Node ${process.versions.node}`)
    run('npm', ['install', '--global', '--no-fund', '--no-audit', COMPILE_CACHE])
  }
}

const marker = join(root, 'node_modules', '.modules.yaml')
const lock = join(root, 'pnpm-lock.yaml')
if (!existsSync(marker) || statSync(lock).mtimeMs > statSync(marker).mtimeMs) {
  log('installing node_modules from the lockfile')
  run('pnpm', ['install', '--frozen-lockfile', '--reporter=append-only'], { env: { ...process.env, CI: 'true' } })
}
