import { HomelabError, type ErrorContext } from '@homelab/core'

/** A short-lived Job (metrics probe, garbage-collect) did not finish, or finished without a readable result. */
export class ClusterJobError extends HomelabError {
  readonly job: string

  constructor(message: string, context: ErrorContext & { job: string }) {
    super(message, context)
    this.job = context.job
  }
}
