import { HomelabError, type ErrorContext } from '@homelab/core'

export type PullFailureKind = 'auth' | 'tls' | 'not-found' | 'unreachable' | 'other'

/** A pull through a node's container runtime failed; `kind` says which part of the trust chain broke. */
export class NodePullError extends HomelabError {
  readonly kind: PullFailureKind

  constructor(message: string, context: ErrorContext & { kind: PullFailureKind }) {
    super(message, context)
    this.kind = context.kind
  }
}
