// Shared by the tasks tests (not a test file itself): one homelab on loopback with names of its own, so a demo or the
// package tests sharing the lab keep theirs, and helpers that read what the tool left behind.
import { existsSync, readFileSync, statSync } from 'node:fs'
import { join } from 'node:path'
import { createKubeClient, loadConfig, type KubeClient } from '@homelab/core'
import { labNodeRestarts, labOptionsFromEnv, type LabNode } from '@homelab/lab'
import { listOwnedObjects } from '../runbooks/owned-objects.js'
import { startLabHomelab, type LabHomelab } from '../lab/lab-homelab.js'

export const DOMAIN = 'e2e.home.arpa'
/** Namespaces of their own per homelab name, so the test and the bench can share the lab with a demo. */
export const namespacesOf = (name: string) => ({ registry: `${name}-registry`, localstack: `${name}-localstack`, tool: `${name}-homelab-devtools` })
export const NS = namespacesOf('e2e')

export async function startE2eHomelab(name: string, addresses: { nodeIp: string; piholeIps: [string, string] }): Promise<LabHomelab> {
  return startLabHomelab({
    lab: labOptionsFromEnv(process.env),
    stateDir: join('/tmp', `homelab-${name}`),
    nodes: { count: 3, firstIp: addresses.nodeIp },
    piholeIps: addresses.piholeIps,
    domain: name === 'e2e' ? DOMAIN : `${name}.home.arpa`,
    sections: {
      kubernetes: { namespace: namespacesOf(name).tool },
      registry: { namespace: namespacesOf(name).registry },
      localstack: { namespace: namespacesOf(name).localstack },
      tls: { ca: { selfSignedIssuer: `${name}-selfsigned`, certificate: `${name}-root-ca`, secretName: `${name}-root-ca`, issuer: `${name}-ca` } },
      timeouts: { nodeReady: '60s', ssh: '10s' },
    },
  })
}

export const kubeOf = (homelab: LabHomelab): KubeClient => createKubeClient({ kubeconfigPath: homelab.lab.kubeconfigPath, fieldManager: 'homelab-devtools' })

export const yamlOf = (node: LabNode) => join(node.etcRancher, 'k3s', 'registries.yaml')
export const readYaml = (node: LabNode) => readFileSync(yamlOf(node), 'utf8')

/** Everything a no-op run must leave alone: resourceVersions of our objects, Pi-hole writes, node files, restarts. */
export type Footprint = { versions: Map<string, string>; piholeWrites: number[]; mtimes: number[]; restarts: number[] }

export async function footprint(homelab: LabHomelab): Promise<Footprint> {
  const config = loadConfig({ configPath: homelab.configPath, cwd: process.cwd(), env: {} })
  const owned = await listOwnedObjects(kubeOf(homelab), config)
  return {
    // Run locks come and go with every bootstrap; they are bookkeeping, not what bootstrap converges.
    versions: new Map(owned.filter((o) => !o.metadata.name.endsWith('-lock') && !o.metadata.name.startsWith('run-lock')).map((o) => [`${o.kind} ${o.metadata.namespace ?? ''}/${o.metadata.name}`, String(o.metadata.resourceVersion)])),
    piholeWrites: homelab.piholes.map((p) => p.requests.writes().length),
    mtimes: homelab.nodes.nodes.map((n) => (existsSync(yamlOf(n)) ? statSync(yamlOf(n)).mtimeMs : 0)),
    restarts: homelab.nodes.nodes.map((n) => labNodeRestarts(n).length),
  }
}

/*
 * kube-public/local-registry-hosting is one per cluster (KEP-1755): every registry installation in the shared lab (the
 * registry package's tests run beside this one) writes its own host there, so it can move between two of our runs
 * without anything of ours drifting. On a real homelab there is one registry and it holds still.
 */
const SHARED_SINGLETON = /ConfigMap kube-public\/local-registry-hosting/

/** Keys whose resourceVersion moved between two footprints (objects present in both). */
export function movedObjects(before: Footprint, after: Footprint): string[] {
  return [...before.versions].filter(([key, rv]) => after.versions.has(key) && after.versions.get(key) !== rv && !SHARED_SINGLETON.test(key)).map(([key]) => key)
}

/** The `changed` step lines of a run, prefix removed (the lab-shared singleton left out, see above). */
export const changedLines = (output: string) =>
  output.split('\n').map((l) => l.replace(/^\S+:\S+: /, '')).filter((l) => l.startsWith('changed  ') && !SHARED_SINGLETON.test(l)).map((l) => l.slice(9))
