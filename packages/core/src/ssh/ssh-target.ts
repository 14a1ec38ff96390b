import type { Secret } from '../secret.js'

/** Where and how to reach one node. Built from `nodes[i]` in homelab.yaml; the file paths are on this machine. */
export type SshTarget = {
  host: string
  port?: number
  user: string
  privateKeyPath?: string
  /** ssh-agent socket path (`SSH_AUTH_SOCK`), passed in by the task so `src/` never reads the environment. */
  agent?: string
  /** Become root with sudo for file access and, unless an exec says otherwise, for commands. */
  sudo?: boolean
  sudoPassword?: Secret
  knownHostsPath: string
  acceptNewHostKeys?: boolean
  connectTimeoutMs?: number
  /** How often to ping an idle connection; a node that misses KEEPALIVE_COUNT_MAX pings in a row is given up on. */
  keepaliveIntervalMs?: number
  /** The config key this target came from (`nodes[2]`), so error hints point at the right entry. */
  configKey?: string
}

export const DEFAULT_CONNECT_TIMEOUT_MS = 10_000
/*
 * Without keepalives a node that loses power or its network mid-command leaves the TCP connection open for hours, and
 * every wait on it (a restart, a file write) with it. 3 missed pings 5 s apart: a dead node is noticed within ~20 s.
 */
export const DEFAULT_KEEPALIVE_INTERVAL_MS = 5_000
export const KEEPALIVE_COUNT_MAX = 3

export const portOf = (target: SshTarget): number => target.port ?? 22

/** `user@host:port`: one pooled connection per distinct value. */
export const targetId = (target: SshTarget): string => `${target.user}@${target.host}:${portOf(target)}`

export const configKeyOf = (target: SshTarget): string => target.configKey ?? 'nodes[i]'

/** What authentication was offered, for messages: which key file and/or agent. Never key material. */
export function describeCredentials(target: SshTarget): string {
  const tried = [
    target.privateKeyPath ? `key ${target.privateKeyPath}` : undefined,
    target.agent ? `agent ${target.agent}` : undefined,
  ].filter((t): t is string => t !== undefined)
  return tried.length > 0 ? tried.join(' and ') : 'no key and no agent'
}
