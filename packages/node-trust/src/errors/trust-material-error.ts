import { HomelabError, type ErrorContext } from '@homelab/core'

/** The registry's credentials or CA are not in the cluster yet: nothing can be written to the nodes. */
export class TrustMaterialError extends HomelabError {
  constructor(message: string, context: ErrorContext = {}) {
    super(message, context)
  }
}
