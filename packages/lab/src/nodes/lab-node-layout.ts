import { join } from 'node:path'

/** The K3s unit a lab node pretends to have: `k3s` on a server, `k3s-agent` on an agent. */
export type LabNodeUnit = 'k3s' | 'k3s-agent'

/**
 * What the node-side programs (the `systemctl` and `k3s` shims) need to know about their node. Written by the host as
 * `<node>/lab-node/node.json`; the node folder is outside the bind mounts, so it is the same path inside the namespace.
 */
export type LabNodeSpec = {
  /** The Kubernetes Node object's name (`lab-node-201` for 127.0.1.201). */
  nodeName: string
  host: string
  /** The host folder of this node (`<state>/nodes/nodeN`). */
  dir: string
  kubeconfigPath: string
  /** The kubernetes source tree whose CRI api.proto the crictl stand-in loads. */
  kubernetesSource: string
}

/** Paths as the node sees them: the real K3s locations, inside the node's mount namespace. */
export const NODE_PATHS = {
  registriesYaml: '/etc/rancher/k3s/registries.yaml',
  containerdConfig: '/var/lib/rancher/k3s/agent/etc/containerd/config.toml',
  certsDir: '/var/lib/rancher/k3s/agent/etc/containerd/certs.d',
  containerdRoot: '/var/lib/rancher/k3s/agent/containerd',
  // Real K3s keeps state under /run/k3s; /run is shared with the host here, so it stays in the node's own folder.
  containerdState: '/var/lib/rancher/k3s/agent/containerd-state',
  containerdSocket: '/var/lib/rancher/k3s/agent/containerd-state/containerd.sock',
  containerdLog: '/var/lib/rancher/k3s/agent/containerd/containerd.log',
  /** Where the shims are bind-mounted: first on root's and sudo's PATH, and empty on Debian. */
  shimDir: '/usr/local/sbin',
} as const

/** Host-side files of one lab node, next to what ssh-nodes.ts keeps there. */
export function labNodeFiles(dir: string) {
  const own = join(dir, 'lab-node')
  return {
    own,
    spec: join(own, 'node.json'),
    hosts: join(own, 'hosts'),
    shims: join(own, 'sbin'),
    unit: join(own, 'unit'),
    restartLog: join(own, 'restarts.log'),
    containerdPid: join(own, 'containerd.pid'),
    faults: join(own, 'faults'),
    neverReady: join(own, 'faults', 'never-ready'),
  }
}

/** Pure. `lab-node-201` for 127.0.1.201: unique across labs that share one API server but use other addresses. */
export function labNodeName(host: string): string {
  return `lab-node-${host.split('.').at(-1) ?? host}`
}
