import { inspect } from 'node:util'

/**
 * uvu swallows an error thrown by a `before` hook (its runner returns from a `finally`): the suite runs none of its
 * tests, prints `(0 / N)` and nothing else, and exits 0. Wrapped in this, the hook prints the error with its stack to
 * stderr, makes the process exit 1, and still throws so uvu skips the suite. `Suite.before(reportHookErrors(async
 * (ctx) => { ... }))`.
 */
export function reportHookErrors<T>(hook: (context: T) => unknown): (context: T) => Promise<void> {
  return async (context) => {
    try {
      await hook(context)
    } catch (error) {
      process.stderr.write(`a before hook threw, so none of its suite's tests ran:\n${inspect(error)}\n`)
      // uvu sets process.exitCode itself at the end of the run; an exit listener has the last word.
      process.once('exit', () => {
        process.exitCode = 1
      })
      throw error
    }
  }
}
