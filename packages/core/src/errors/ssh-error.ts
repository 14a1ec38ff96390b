import { HomelabError, type ErrorContext } from './homelab-error.js'

/** Connecting to, or running something on, a node failed. */
export class SshError extends HomelabError {
  constructor(message: string, context: ErrorContext = {}) {
    super(message, context)
  }
}

/** The node's host key is unknown or differs from `known_hosts`: never connect past this. */
export class HostKeyError extends SshError {
  readonly knownHostsLine: number | undefined

  constructor(message: string, context: ErrorContext & { knownHostsLine?: number } = {}) {
    super(message, context)
    this.knownHostsLine = context.knownHostsLine
  }
}
