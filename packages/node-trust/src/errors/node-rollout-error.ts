import { HomelabError, type ErrorContext } from '@homelab/core'

/** A node did not come back after its K3s restart: the rollout stops there, and the message says how to undo. */
export class NodeRolloutError extends HomelabError {
  readonly node: string

  constructor(message: string, context: ErrorContext & { node: string }) {
    super(message, context)
    this.node = context.node
  }
}
