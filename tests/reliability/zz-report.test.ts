// Runs last (files run in name order): prints the suite's counts from the tally the other files wrote, on their own
// lines, before the runner's final `N passed, N failed`. Asserts the promise behind the last number: no leaks.
import { readdirSync } from 'node:fs'
import { basename } from 'node:path'
import { suite } from 'uvu'
import * as assert from 'uvu/assert'
import { clearTally, readCounts, reportLines, tallyFile } from './support/reliability-tally.js'

const Report = suite('reliability report')

Report('the report counts every case tried and finds no secret leak', () => {
  const counts = readCounts(tallyFile())
  process.stdout.write(`\n${reportLines(counts).join('\n')}\n\n`)
  clearTally()
  // Run with the suite (run-tests.ts names each file's TMPDIR after it), the tally must hold its cases: an empty one
  // means the files wrote it where this report does not look, and every count below would pass on nothing.
  const runDir = process.env['HOMELAB_TEST_RUN_DIR']
  const caseFiles = readdirSync(import.meta.dirname).filter((f) => f.endsWith('.test.ts') && !['secrets.test.ts', 'zz-report.test.ts'].includes(f)).map((f) => basename(f, '.test.ts'))
  const ran = runDir ? readdirSync(runDir).filter((dir) => caseFiles.some((f) => dir.endsWith(`-${f}`))) : []
  if (ran.length > 0) assert.ok(counts.faultsTried + counts.inputsTried > 0, `${ran.length} reliability file(s) ran, yet the tally is empty`)
  assert.is(counts.leaks, 0, 'secret leaks found')
  assert.is(counts.faultsSurvived, counts.faultsTried)
  assert.is(counts.inputsRejected, counts.inputsTried)
})

Report.run()
