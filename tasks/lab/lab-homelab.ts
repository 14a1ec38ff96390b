import { randomBytes } from 'node:crypto'
import { mkdirSync, writeFileSync } from 'node:fs'
import { join } from 'node:path'
import { DEFAULT_TRAEFIK_IP, labUp, startLabNodes, startPihole, writeLabConfig, type LabHandle, type LabNodes, type LabOptions, type PiholeDouble, stopLabNodes } from '@homelab/lab'

export type LabHomelabOptions = {
  lab: LabOptions
  /** Where this homelab keeps its Pi-hole and node folders and its homelab.yaml; default the lab's state folder. */
  stateDir?: string
  /** Node addresses count up from firstIp (loopback only). */
  nodes: { count: number; firstIp: string }
  /** Two Pi-holes: the first with a password, the second without, as homelabs often run them. */
  piholeIps: readonly [string, string]
  domain?: string
  /** Config sections merged over the lab's (a test's own namespaces and CA names). */
  sections?: Record<string, unknown>
  onProgress?: (message: string) => void
}

export type LabHomelab = {
  lab: LabHandle
  nodes: LabNodes
  piholes: PiholeDouble[]
  configPath: string
  traefikIp: string
  domain: string
  /** Stops what this process started (the Pi-hole doubles); the nodes and the lab stay for `pnpm lab down`. */
  stop(): Promise<void>
}

const serviceHosts = (domain: string) => ['registry', 'registry-ui', 'localstack'].map((h) => `${h}.${domain}`)

/**
 * A homelab on loopback for the whole tool: the lab's API server and controller, two Pi-hole doubles (real dnsmasq)
 * and K3s nodes (sshd + containerd), with a homelab.yaml naming all of them and no other machine.
 */
export async function startLabHomelab(options: LabHomelabOptions): Promise<LabHomelab> {
  const lab = await labUp({ ...options.lab, ...(options.onProgress ? { onProgress: options.onProgress } : {}) })
  const { started: _s, builtKubeApiserver: _b, installedPackages: _i, ...handle } = lab
  const stateDir = options.stateDir ?? handle.stateDir
  const domain = options.domain ?? 'homelab.local'
  const traefikIp = options.lab.traefikIp ?? DEFAULT_TRAEFIK_IP
  mkdirSync(stateDir, { recursive: true, mode: 0o700 })
  options.onProgress?.('starting two Pi-hole doubles and the lab nodes')
  const password = randomBytes(12).toString('base64url')
  const passwordFile = join(stateDir, 'pihole-1.password')
  writeFileSync(passwordFile, `${password}\n`, { mode: 0o600 })
  const [first, second] = options.piholeIps
  const piholes = [
    await startPihole({ stateDir: join(stateDir, 'pihole-1'), ip: first, password, dnsPort: 53 }),
    await startPihole({ stateDir: join(stateDir, 'pihole-2'), ip: second, dnsPort: 53 }),
  ]
  // The nodes read the CRI proto from the kubernetes source in the build cache: the same cache labUp built from.
  const nodes = await startLabNodes({
    stateDir, ...options.nodes, kubeconfigPath: handle.kubeconfigPath, servicesIp: traefikIp, serviceHosts: serviceHosts(domain), cacheDir: options.lab.cacheDir,
  })
  const sections = {
    domain,
    dns: {
      piholes: piholes.map((p, i) => ({ url: p.url, name: `pihole-${i + 1}`, ...(i === 0 ? { passwordFile } : {}), dnsAddress: p.dnsAddress, dnsPort: p.dnsPort })),
    },
    nodes: nodes.nodes.map((n) => ({ name: n.nodeName, host: n.host, port: n.port, user: 'root', keyFile: nodes.clientKeyPath })),
    nodeTrust: { knownHostsFile: nodes.knownHostsPath },
    ...options.sections,
    // Sections replace the lab's whole; the kubeconfig must survive a section that only names a namespace.
    kubernetes: { kubeconfig: handle.kubeconfigPath, ...(options.sections?.['kubernetes'] as object | undefined) },
  }
  const configPath = writeLabConfig({ stateDir, kubeconfigPath: handle.kubeconfigPath }, { traefikIp, sections })
  return {
    lab: handle, nodes, piholes, configPath, traefikIp, domain,
    // The nodes too: under a state folder of its own (tests), `lab down` would never find them.
    stop: async () => void (await Promise.all([...piholes.map((p) => p.stop()), stopLabNodes(stateDir)])),
  }
}
