import { HomelabError, type ErrorContext } from './homelab-error.js'

/** Bad config or usage: the runner exits 2. `issues` lists every problem, each naming its key path. */
export class ConfigError extends HomelabError {
  readonly issues: readonly string[]

  constructor(issues: readonly string[], context: ErrorContext = {}) {
    const head = issues.length === 1 ? 'invalid config: ' : `invalid config (${issues.length} problems):\n  `
    super(head + issues.join('\n  '), context)
    this.issues = issues
  }
}
