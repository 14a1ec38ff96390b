import { loadConfig, type Env, type LoadConfigOptions } from './config/load-config.js'
import type { HomelabConfig } from './config/config-schema.js'
import { createKubeClient, type KubeClient, type KubeClientOptions } from './kube/kube-client.js'
import { SshPool } from './ssh/ssh-pool.js'

/**
 * The connections a run holds: one SSH connection per node, one Kubernetes client per kubeconfig and context.
 * A task owns its own; the pipeline hands one set to all the tasks it runs in its process, so preflight's SSH
 * handshakes are the only ones node-trust and verify need.
 */
export class ToolClients {
  readonly ssh = new SshPool()
  readonly #kube = new Map<string, KubeClient>()
  readonly #configs = new WeakMap<Env, Map<string, HomelabConfig>>()

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

  close(): Promise<void> {
    return this.ssh.close()
  }
}
