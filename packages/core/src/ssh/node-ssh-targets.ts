import type { HomelabConfig } from '../config/config-schema.js'
import type { SshTarget } from './ssh-target.js'

/** Every `nodes[]` entry as an SSH target, the one way every component reaches a node. */
export function nodeSshTargets(config: HomelabConfig, acceptNewHostKeys: boolean): SshTarget[] {
  return config.nodes.map((node, index) => ({
    host: node.host,
    port: node.port,
    user: node.user,
    ...(node.keyFile ? { privateKeyPath: node.keyFile } : {}),
    ...(node.agent ? { agent: node.agent } : {}),
    sudo: node.sudo,
    ...(node.sudoPassword ? { sudoPassword: node.sudoPassword } : {}),
    knownHostsPath: config.nodeTrust.knownHostsFile,
    acceptNewHostKeys,
    connectTimeoutMs: config.timeouts.ssh.milliseconds,
    configKey: `nodes[${index}]`,
  }))
}
