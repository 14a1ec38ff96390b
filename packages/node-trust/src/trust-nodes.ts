import { nodeSshTargets, type HomelabConfig, type SshTarget } from '@homelab/core'

export type K3sUnit = 'k3s' | 'k3s-agent'

/** One node of `nodes[]`, ready to connect to. */
export type TrustNode = {
  /** `nodes[3]`: where in homelab.yaml to fix it. */
  key: string
  /** The config name, else the address: how the node is named in output. */
  label: string
  /** The Kubernetes Node name; found by address when absent. */
  name: string | undefined
  /** From the config role; undefined means detect it from the systemd unit present. */
  unit: K3sUnit | undefined
  target: SshTarget
}

export function trustNodes(config: HomelabConfig, acceptNewHostKeys: boolean): TrustNode[] {
  const targets = nodeSshTargets(config, acceptNewHostKeys)
  return config.nodes.map((node, index) => ({
    key: `nodes[${index}]`,
    label: node.name ?? node.host,
    name: node.name,
    unit: node.role === 'server' ? 'k3s' : node.role === 'agent' ? 'k3s-agent' : undefined,
    target: targets[index]!,
  }))
}
