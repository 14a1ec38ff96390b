import { checkStep, type SshSession, type Step } from '@homelab/core'
import { NodePullError, type PullFailureKind } from './errors/node-pull-error.js'
import type { TrustNode } from './trust-nodes.js'

/** Pure. Which link of the chain a failed CRI pull points at, from containerd's message. */
export function classifyPullFailure(stderr: string): PullFailureKind {
  if (/401 Unauthorized|unauthorized|authorization failed/i.test(stderr)) return 'auth'
  if (/x509|certificate|tls:/i.test(stderr)) return 'tls'
  if (/not found|404/i.test(stderr)) return 'not-found'
  if (/no such host|connection refused|i\/o timeout|dial tcp|no route to host/i.test(stderr)) return 'unreachable'
  return 'other'
}

const EXPLAIN: Record<PullFailureKind, string> = {
  auth: 'auth error: the registry refused the credentials in registries.yaml (wrong password?)',
  tls: 'TLS error: the node does not trust the registry certificate (CA file missing or wrong?)',
  'not-found': 'the image is not in the registry',
  unreachable: 'the node cannot reach the registry (DNS or network)',
  other: 'the pull failed',
}

const HINT: Record<PullFailureKind, string> = {
  auth: 'run `pnpm --filter node-trust run sync` so the node gets the current password, and check registry.users[0] and the credentials Secret',
  tls: 'run sync again so the node gets the CA, and check tls.ca.secretName',
  'not-found': 'run the registry verify first: it pushes the test image',
  unreachable: 'check that the registry host resolves to the Traefik IP on the node (DNS records, /etc/hosts)',
  other: 'look at containerd\'s log on the node (/var/lib/rancher/k3s/agent/containerd/containerd.log)',
}

/** Pulls through the node's container runtime over CRI, as a pod's image pull would: the end-to-end proof. */
export async function pullThroughNode(session: SshSession, node: TrustNode, ref: string): Promise<void> {
  const result = await session.exec(['k3s', 'crictl', 'pull', ref])
  if (result.code === 0) return
  const stderr = result.stderr.trim()
  const kind = classifyPullFailure(stderr)
  throw new NodePullError(`${node.label}: pulling ${ref} through containerd failed: ${EXPLAIN[kind]}: ${stderr.split('\n').at(-1) ?? ''}`, {
    host: node.target.host, kind, hint: HINT[kind],
  })
}

export function verifyNodePullStep(node: TrustNode, session: () => Promise<SshSession>, ref: string): Step<null, never> {
  return checkStep(`pull ${ref} on ${node.label}`, async () => pullThroughNode(await session(), node, ref))
}
