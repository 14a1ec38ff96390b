import { resolve } from 'node:path'
import type { Env } from './config/load-config.js'
import type { HomelabConfig } from './config/config-schema.js'
import type { KubeClient } from './kube/kube-client.js'
import type { Reporter } from './reporter.js'
import type { SshPool } from './ssh/ssh-pool.js'
import { ToolClients, type Shared } from './tool-clients.js'

/** What every component's steps are built from: the validated config, clients made from it, and the run's flags. */
export type ToolContext = {
  readonly config: HomelabConfig
  readonly plan: boolean
  readonly forceConflicts: boolean
  readonly acceptNewHostKeys: boolean
  readonly yes: boolean
  /** verify: the read-only health checks only, none that push, pull or start a Job. */
  readonly quick: boolean
  readonly reporter: Reporter
  readonly signal: AbortSignal
  readonly env: Env
  /** Made on first use, so a task that never talks to the cluster never needs a kubeconfig. */
  kube(): KubeClient
  /** One SSH connection per node, shared by every step of the run. */
  readonly ssh: SshPool
  /** Opened once for every task sharing this run's connections (a Pi-hole login), and closed with them. */
  readonly shared: Shared
  close(): Promise<void>
}

export type ToolFlags = {
  plan?: boolean | undefined
  config?: string | undefined
  kubeconfig?: string | undefined
  'force-conflicts'?: boolean | undefined
  'accept-new-host-keys'?: boolean | undefined
  yes?: boolean | undefined
  quick?: boolean | undefined
}

/**
 * `clients`: connections to use and leave open (the pipeline's, shared by the tasks it runs in one process); without
 * them the context opens its own and `close()` closes them.
 */
export function openToolContext(options: { flags: ToolFlags; reporter: Reporter; env: Env; cwd: string; signal: AbortSignal; clients?: ToolClients | undefined }): ToolContext {
  const { flags } = options
  const clients = options.clients ?? new ToolClients()
  const config = clients.config({ configPath: flags.config, cwd: options.cwd, env: options.env })
  const acceptNewHostKeys = flags['accept-new-host-keys'] ?? config.nodeTrust.acceptNewHostKeys
  if (acceptNewHostKeys) {
    options.reporter.warn(undefined, `host keys: a node's unknown SSH host key will be trusted on first use and added to ${config.nodeTrust.knownHostsFile}; a changed key is still refused`)
  }
  return {
    config,
    plan: flags.plan ?? false,
    forceConflicts: flags['force-conflicts'] ?? false,
    acceptNewHostKeys,
    yes: flags.yes ?? false,
    quick: flags.quick ?? false,
    reporter: options.reporter,
    signal: options.signal,
    env: options.env,
    kube() {
      // Relative to where the user typed it, as --config is (`pnpm --filter dns run sync` runs in packages/dns).
      const kubeconfigPath = flags.kubeconfig ? resolve(options.cwd, flags.kubeconfig) : config.kubernetes.kubeconfig
      return clients.kube({
        ...(kubeconfigPath ? { kubeconfigPath } : {}),
        ...(config.kubernetes.context ? { context: config.kubernetes.context } : {}),
        fieldManager: config.kubernetes.fieldManager,
        requestTimeoutMs: config.timeouts.kubernetes.milliseconds,
      })
    },
    ssh: clients.ssh,
    shared: clients.shared,
    close: () => (options.clients ? Promise.resolve() : clients.close()),
  }
}
