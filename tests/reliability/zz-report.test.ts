// Runs last (files run in name order): prints the suite's counts from the tally the other files wrote, on their own
// lines, before the runner's final `N passed, N failed`. Asserts the promise behind the last number: no leaks.
import { suite } from 'uvu'
import * as assert from 'uvu/assert'
import { clearTally, readCounts, reportLines, tallyFile } from './support/reliability-tally.js'

const Report = suite('reliability report')

Report('the report counts every case tried and finds no secret leak', () => {
  const counts = readCounts(tallyFile())
  process.stdout.write(`\n${reportLines(counts).join('\n')}\n\n`)
  clearTally()
  assert.is(counts.leaks, 0, 'secret leaks found')
  assert.is(counts.faultsSurvived, counts.faultsTried)
  assert.is(counts.inputsRejected, counts.inputsTried)
})

Report.run()
