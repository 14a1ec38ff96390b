import { HomelabError, type ErrorContext } from '@homelab/core'

/**
 * Turbo could not resolve the pipeline's graph: almost always its flags (a filter that matches no package, a flag
 * turbo rejects such as `--dry`, which the wrapper already passes as `--dry=json`). Nothing was started: exit 2.
 */
export class TaskGraphError extends HomelabError {
  constructor(message: string, context: ErrorContext = {}) {
    super(message, { hint: 'check the turbo flags given to `pnpm turbo` (a --filter must match a package; --dry is not for the pipeline)', ...context })
  }
}
