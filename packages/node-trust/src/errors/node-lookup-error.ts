import { HomelabError, type ErrorContext } from '@homelab/core'

/**
 * A node's Kubernetes Node could not be found, before anything was written to it: that node fails alone. Not a
 * NodeRolloutError, which stops the rollout: nothing restarted, so the nodes after it may go on.
 */
export class NodeLookupError extends HomelabError {
  readonly node: string

  constructor(message: string, context: ErrorContext & { node: string }) {
    super(message, context)
    this.node = context.node
  }
}
