#!/usr/bin/env node
// Makes a fresh Debian machine with only Node 20 ready for the tool: pnpm and node_modules. (The lab installs its
// own Debian packages and builds when it first comes up.) Plain Node with no dependencies, because it runs before anything is installed.
// Every step checks first, so a second run costs a second or two.
import { spawnSync } from 'node:child_process'
import { existsSync, readFileSync, statSync } from 'node:fs'
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

// Corepack cannot verify pnpm's signatures against this machine's registry, so pnpm comes from npm, pinned.
const have = pnpmOnPath()
if (have !== pnpmVersion) {
  log(have ? `pnpm ${have} found, installing the pinned ${pnpmVersion}` : `installing pnpm ${pnpmVersion} with npm`)
  run('npm', ['install', '--global', '--no-fund', '--no-audit', `pnpm@${pnpmVersion}`])
}

const marker = join(root, 'node_modules', '.modules.yaml')
const lock = join(root, 'pnpm-lock.yaml')
if (!existsSync(marker) || statSync(lock).mtimeMs > statSync(marker).mtimeMs) {
  log('installing node_modules from the lockfile')
  run('pnpm', ['install', '--frozen-lockfile', '--reporter=append-only'], { env: { ...process.env, CI: 'true' } })
}
