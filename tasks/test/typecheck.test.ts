// The whole workspace type-checks: tsx runs the tests and esbuild bundles the tasks, and neither checks a type, so a
// wrong type would otherwise reach main unseen. (`pnpm typecheck` is the same check on its own.)
import { spawnSync } from 'node:child_process'
import { join } from 'node:path'
import { suite } from 'uvu'
import * as assert from 'uvu/assert'
import { REPO_ROOT } from '../lab/run-tool-process.js'

const Typecheck = suite('typecheck')

Typecheck('tsc finds no error in any package, task, test, script or bench (tsconfig.json)', () => {
  const tsc = join(REPO_ROOT, 'node_modules', 'typescript', 'bin', 'tsc')
  const result = spawnSync(process.execPath, [tsc, '-p', join(REPO_ROOT, 'tsconfig.json'), '--noEmit'], { cwd: REPO_ROOT, encoding: 'utf8' })
  assert.is(result.status, 0, `tsc exited ${result.status}:\n${result.stdout}${result.stderr}`)
})

Typecheck.run()
