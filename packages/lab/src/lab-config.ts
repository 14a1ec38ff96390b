import { writeFileSync } from 'node:fs'
import { join } from 'node:path'
import { stringify } from 'yaml'
import type { LabHandle } from './lab.js'

export type LabConfigParts = {
  traefikIp: string
  /** Extra top-level sections (dns.piholes, nodes, …) as the parts of the lab that serve them come up. */
  sections?: Record<string, unknown>
}

/**
 * A homelab.yaml that points the tool at the lab and nowhere else: the example's private addresses (192.168.4.x) must
 * never be the target of a lab run, so every section that names a machine is overridden here.
 */
export function writeLabConfig(handle: Pick<LabHandle, 'stateDir' | 'kubeconfigPath'>, parts: LabConfigParts): string {
  const config = {
    domain: 'homelab.local',
    ingress: { ip: parts.traefikIp },
    kubernetes: { kubeconfig: handle.kubeconfigPath },
    dns: { piholes: [] },
    nodes: [],
    ...parts.sections,
  }
  const path = join(handle.stateDir, 'homelab.yaml')
  writeFileSync(path, `# Written by the lab: the tool's config for this lab.\n${stringify(config)}`, { mode: 0o600 })
  return path
}
