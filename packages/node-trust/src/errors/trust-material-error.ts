import { HomelabError, type ErrorContext } from '@homelab/core'

/** The registry's credentials or CA are not in the cluster yet: nothing can be written to the nodes. */
export class TrustMaterialError extends HomelabError {
  constructor(message: string, context: ErrorContext = {}) {
    super(message, context)
  }
}

/**
 * The credentials or CA the registry's bootstrap makes are not there yet (a fresh cluster, a new first user, a renamed
 * Secret): a bootstrap, registry first, repairs it. What status reports as drift rather than as an error.
 */
export class TrustMaterialNotYetMadeError extends TrustMaterialError {}
