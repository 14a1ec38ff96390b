#!/usr/bin/env node
// Makes a fresh Debian machine with only Node 20 ready for the tool: pnpm and node_modules. (The lab installs its
// own Debian packages and builds when it first comes up.) Plain Node with no dependencies, because it runs before anything is installed.
// Every step checks first, so a second run costs a second or two.
import { spawnSync } from 'node:child_process'
import { existsSync, mkdirSync, readFileSync, realpathSync, renameSync, rmSync, statSync, utimesSync, writeFileSync } from 'node:fs'
import { createRequire } from 'node:module'
import { dirname, join } from 'node:path'
import { fileURLToPath } from 'node:url'

const root = join(dirname(fileURLToPath(import.meta.url)), '..')
const pkg = JSON.parse(readFileSync(join(root, 'package.json'), 'utf8'))
const pnpmVersion = pkg.packageManager.replace(/^pnpm@/, '')
// Where the pinned pnpm has no build: the last pnpm that runs on Node 20 (pnpm 11 needs Node 22.13).
const JS_FALLBACK = '10.34.7'
const log = (msg) => process.stderr.write(`setup: ${msg}\n`)

function run(cmd, args, opts = {}) {
  const r = spawnSync(cmd, args, { stdio: 'inherit', cwd: root, ...opts })
  if (r.status !== 0) {
    log(`'${cmd} ${args.join(' ')}' failed (exit ${r.status ?? r.signal})`)
    process.exit(r.status || 1)
  }
}

/**
 * The version of the pnpm on PATH, asked outside this checkout: here, a pnpm 10 would try to switch to the pinned
 * version first (and refuse, where the registry serves no signatures).
 */
function pnpmOnPath() {
  const r = spawnSync('pnpm', ['--version'], { encoding: 'utf8', cwd: '/' })
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

/** The pnpm in npm's global bin folder (where setup installs it), whichever pnpm comes first on PATH. */
function globalPnpmPath() {
  const prefix = spawnSync('npm', ['prefix', '--global'], { encoding: 'utf8' }).stdout?.trim()
  return prefix ? join(prefix, 'bin', 'pnpm') : undefined
}

/** The version the pnpm in npm's global bin folder reports, if there is one. */
function globalPnpmVersion() {
  const path = globalPnpmPath()
  const r = path ? spawnSync(path, ['--version'], { encoding: 'utf8', cwd: '/' }) : undefined
  return r?.status === 0 ? r.stdout.trim() : undefined
}

// The platforms pnpm 12 has a build for (its optional dependencies, @pnpm/exe.<platform>-<arch>).
const PNPM_BUILDS = new Set(['linux-x64', 'linux-arm64', 'linux-riscv64', 'linux-ppc64', 'linux-s390x', 'darwin-x64', 'darwin-arm64', 'win32-x64', 'win32-arm64', 'freebsd-x64', 'android-arm64', 'android-x64'])

/**
 * Whether the pinned pnpm installs and answers on this machine, tried in a folder of its own under node_modules (not
 * the temporary folder, which may be mounted noexec).
 */
function pinnedPnpmRunsHere() {
  const trial = join(root, 'node_modules', '.cache', 'homelab-devtools', 'pnpm-trial')
  rmSync(trial, { recursive: true, force: true })
  mkdirSync(trial, { recursive: true })
  try {
    const installed = spawnSync('npm', ['install', '--prefix', trial, '--no-fund', '--no-audit', '--no-save', `pnpm@${pnpmVersion}`], { stdio: ['ignore', 'ignore', 'inherit'] })
    if (installed.status !== 0) return false
    const r = spawnSync(join(trial, 'node_modules', '.bin', 'pnpm'), ['--version'], { encoding: 'utf8', cwd: '/' })
    return r.status === 0 && r.stdout.trim() === pnpmVersion
  } finally {
    rmSync(trial, { recursive: true, force: true })
  }
}

/**
 * The JavaScript pnpm 10, the last that runs on Node 20, where pnpm 12 has no build (32-bit ARM and x86), told in this
 * checkout's .npmrc (which only this writes) not to switch to the pinned pnpm it cannot run.
 */
function installJsFallback() {
  if (pnpmOnPath() !== JS_FALLBACK) {
    if (globalPackage('@pnpm/exe')) npmGlobal(['uninstall', '@pnpm/exe'])
    run('npm', ['install', '--global', '--no-fund', '--no-audit', `pnpm@${JS_FALLBACK}`])
  }
  const npmrc = join(root, '.npmrc')
  const text = existsSync(npmrc) ? readFileSync(npmrc, 'utf8') : ''
  if (/^manage-package-manager-versions=false$/m.test(text)) return
  // Whole or not at all: a half-written .npmrc would break every npm and pnpm command here.
  writeFileSync(`${npmrc}.tmp`, `${text}${text && !text.endsWith('\n') ? '\n' : ''}manage-package-manager-versions=false\n`)
  renameSync(`${npmrc}.tmp`, npmrc)
}

/**
 * pnpm from npm, pinned (corepack cannot verify pnpm's signatures against this machine's registry). pnpm 12 is a
 * native program (its npm package links the build for this platform at install): `pnpm turbo bootstrap` pays 0.02 s
 * for pnpm where pnpm 10 took 0.2 s as its standalone build and 0.35 s as JavaScript on Node 20. The pinned version is
 * first tried in a folder of its own, so the pnpm already in npm's global folder (setup's earlier @pnpm/exe, which
 * claims the same bin names) is only removed once the new one is known to run; if it does not (the registry, the
 * network), a pnpm already here stays.
 */
function installPnpm(have) {
  if (!PNPM_BUILDS.has(`${process.platform}-${process.arch}`)) {
    if (have !== JS_FALLBACK) log(`pnpm ${pnpmVersion} has no build for ${process.platform}-${process.arch}: installing the JavaScript pnpm ${JS_FALLBACK}`)
    return installJsFallback()
  }
  log(have ? `pnpm ${have} found, installing the pinned ${pnpmVersion}` : `installing pnpm ${pnpmVersion} with npm`)
  if (!pinnedPnpmRunsHere()) {
    if (have) return log(`warning: pnpm ${pnpmVersion} did not install or run here (npm's output above); keeping pnpm ${have}`)
    log(`pnpm ${pnpmVersion} did not install or run here (npm's output above); installing the JavaScript pnpm ${JS_FALLBACK}`)
    return installJsFallback()
  }
  // `corepack enable` links pnpm's names to corepack's launcher, in the same bin folder: npm would refuse to put its
  // own there (EEXIST). Corepack cannot fetch pnpm here anyway (it verifies signatures this registry does not serve).
  if (pnpmLauncher()?.includes('/corepack/')) {
    log('the pnpm on PATH is corepack\'s launcher: `corepack disable pnpm pnpx`, so npm can install the pinned pnpm in its place')
    run('corepack', ['disable', 'pnpm', 'pnpx'])
  }
  for (const old of ['@pnpm/exe', 'pnpm']) if (globalPackage(old) && !npmGlobal(['uninstall', old])) process.exit(1)
  if (npmGlobal(['install', '--allow-scripts=pnpm', `pnpm@${pnpmVersion}`]) && globalPnpmVersion() === pnpmVersion) return
  log(`pnpm@${pnpmVersion} did not install in npm's global folder; installing the JavaScript pnpm ${JS_FALLBACK}`)
  installJsFallback()
}

const have = pnpmOnPath()
// Setup's own pnpm: the one on PATH, or the one it installed when another comes first on PATH.
let pnpm = 'pnpm'
if (have !== pnpmVersion) {
  // In npm's global folder already (an earlier setup), only another pnpm comes first on PATH: installing it again
  // would change nothing, every time.
  const installed = globalPnpmVersion()
  if (installed !== pnpmVersion && installed !== JS_FALLBACK) installPnpm(have)
  const now = pnpmOnPath()
  if (now !== pnpmVersion && now !== JS_FALLBACK) {
    const path = globalPnpmPath()
    const version = globalPnpmVersion()
    log(`warning: the pnpm on PATH (${now ?? 'none'}${now ? `, ${pnpmLauncher() ?? '?'}` : ''}) is not the one setup installed (${path ?? '?'}, ${version ?? 'absent'}): put ${dirname(path ?? '/?/pnpm')} first on PATH, or \`pnpm\` commands here run the wrong one`)
    if (path && [pnpmVersion, JS_FALLBACK].includes(version ?? '')) pnpm = path
  }
}

// The JavaScript pnpm loads v8-compile-cache when it can find it, for Node < 22 (which has no compile cache of its
// own): pnpm then compiles less of its 8 MB bundle on every start, about 0.08 s off every pnpm command. npm's global
// folder is on its launcher's module path, so that is where it goes, when pnpm itself was installed there.
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
  run(pnpm, ['install', '--frozen-lockfile', '--reporter=append-only'], { env: { ...process.env, CI: 'true' } })
  // pnpm leaves the marker as it was when the lockfile only looked newer (a checkout, a touch): without this, every
  // later run would install again.
  const now = new Date()
  utimesSync(marker, now, now)
}
