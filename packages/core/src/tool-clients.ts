import { loadConfig, type Env, type LoadConfigOptions } from './config/load-config.js'
import type { HomelabConfig } from './config/config-schema.js'
import { createKubeClient, type KubeClient, type KubeClientOptions } from './kube/kube-client.js'
import { SshPool } from './ssh/ssh-pool.js'

/** Something one run opens once and every task of it uses, closed with the run's connections: a Pi-hole login. */
export type Shared = {
  /** The value for `key`, opened on first use. A failed open is not kept: the next caller tries again, and reports its own failure. */
  get<T>(key: object, open: () => Promise<T>, close: (value: T) => Promise<void>): Promise<T>
  /** Forgets the value for `key` and closes it now (one that saw an error is not used again); close's failure is the caller's. */
  discard(key: object): Promise<void>
}

/**
 * The connections a run holds: one SSH connection per node, one Kubernetes client per kubeconfig and context.
 * A task owns its own; the pipeline hands one set to all the tasks it runs in its process, so preflight's SSH
 * handshakes are the only ones node-trust and verify need.
 */
export class ToolClients {
  readonly ssh = new SshPool()
  readonly #kube = new Map<string, KubeClient>()
  readonly #configs = new WeakMap<Env, Map<string, HomelabConfig>>()
  readonly #shared = new Map<object, { value: Promise<unknown>; close: (value: never) => Promise<void> }>()

  readonly shared: Shared = {
    get: <T>(key: object, open: () => Promise<T>, close: (value: T) => Promise<void>): Promise<T> => {
      const held = this.#shared.get(key)
      if (held) return held.value as Promise<T>
      const value = open()
      this.#shared.set(key, { value, close })
      value.catch(() => {
        if (this.#shared.get(key)?.value === value) this.#shared.delete(key)
      })
      return value
    },
    discard: async (key: object): Promise<void> => {
      const held = this.#shared.get(key)
      if (!held) return
      this.#shared.delete(key)
      const value = await held.value.catch(() => undefined)
      if (value !== undefined) await held.close(value as never)
    },
  }

  kube(options: KubeClientOptions): KubeClient {
    const key = JSON.stringify([options.kubeconfigPath ?? '', options.context ?? '', options.fieldManager])
    let client = this.#kube.get(key)
    if (!client) this.#kube.set(key, (client = createKubeClient(options)))
    return client
  }

  /**
   * The config, read and validated once per file and environment for every task sharing these clients: the tasks of
   * one pipeline see one and the same config even if the file is edited while it runs. A config that fails to load
   * is not kept, so each task reports the error itself.
   */
  config(options: LoadConfigOptions): HomelabConfig {
    let byFile = this.#configs.get(options.env)
    if (!byFile) this.#configs.set(options.env, (byFile = new Map()))
    const key = JSON.stringify([options.configPath ?? '', options.cwd])
    let config = byFile.get(key)
    if (!config) byFile.set(key, (config = loadConfig(options)))
    return config
  }

  /**
   * Closes every connection and everything shared. A shared value that fails to close is left: what the run needed
   * of it had succeeded, and what it holds frees itself (a Pi-hole session expires after webserver.session.timeout).
   */
  async close(): Promise<void> {
    const shared = [...this.#shared.keys()].map((key) => this.shared.discard(key).catch(() => undefined))
    await Promise.all([this.ssh.close(), ...shared])
  }
}
