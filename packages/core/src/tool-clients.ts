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

  kube(options: KubeClientOptions): KubeClient {
    const key = JSON.stringify([options.kubeconfigPath ?? '', options.context ?? '', options.fieldManager])
    let client = this.#kube.get(key)
    if (!client) this.#kube.set(key, (client = createKubeClient(options)))
    return client
  }

  close(): Promise<void> {
    return this.ssh.close()
  }
}
