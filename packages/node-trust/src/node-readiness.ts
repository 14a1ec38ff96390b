import { KubeError, waitFor, type KubeClient, type KubeObject } from '@homelab/core'
import { NodeLookupError } from './errors/node-lookup-error.js'
import type { TrustNode } from './trust-nodes.js'

export type ReadyCondition = { status: string; lastHeartbeatTime?: string; lastTransitionTime?: string }

type NodeStatus = { addresses?: { type: string; address: string }[]; conditions?: (ReadyCondition & { type: string })[] }

const statusOf = (node: KubeObject | undefined) => (node?.['status'] ?? {}) as NodeStatus

export function readyCondition(node: KubeObject | undefined): ReadyCondition | undefined {
  return statusOf(node).conditions?.find((c) => c.type === 'Ready')
}

/**
 * The Kubernetes Node name: from config (a Node of that name must exist: its Ready is what the restart waits for),
 * else the Node whose status.addresses hold the SSH host. Called before any write.
 */
export async function resolveNodeName(kube: KubeClient, node: TrustNode): Promise<string> {
  if (node.name) {
    if (await kube.get({ apiVersion: 'v1', kind: 'Node', name: node.name })) return node.name
    throw new NodeLookupError(`${node.label}: no Node named ${node.name} in the cluster`, {
      node: node.label, host: node.target.host, key: `${node.key}.name`, hint: `set ${node.key}.name to the node's name in \`kubectl get nodes\`, or leave it out to find the Node by ${node.target.host}`,
    })
  }
  const nodes = await kube.list('v1', 'Node')
  const match = nodes.find((n) => statusOf(n).addresses?.some((a) => a.address === node.target.host))
  if (!match) {
    throw new NodeLookupError(`${node.label}: no Node in the cluster has the address ${node.target.host}`, {
      node: node.label, host: node.target.host, key: `${node.key}.name`, hint: `set ${node.key}.name to the node's name in \`kubectl get nodes\``,
    })
  }
  return match.metadata.name
}

/**
 * Pure. Ready again after our restart, not still Ready from before: either we saw it leave Ready meanwhile, or a
 * kubelet has posted Ready since (a heartbeat or transition newer than the one we saw before restarting).
 */
export function readyAfterRestart(before: ReadyCondition | undefined, now: ReadyCondition | undefined, sawNotReady: boolean): boolean {
  if (now?.status !== 'True') return false
  if (sawNotReady || before === undefined) return true
  const newer = (a: string | undefined, b: string | undefined) => a !== undefined && (b === undefined || a > b)
  return newer(now.lastHeartbeatTime, before.lastHeartbeatTime) || newer(now.lastTransitionTime, before.lastTransitionTime)
}

export type WaitReadyOptions = { nodeName: string; before: ReadyCondition | undefined; timeoutMs: number; signal?: AbortSignal; progress?: (m: string) => void }

/**
 * The API server going away for a while is part of restarting K3s on a server node (a one-server homelab restarts
 * its API server with it): unreachable, a timeout, 429 or 5xx. Anything else (401, 403) is no restart's doing.
 */
const apiAway = (error: unknown) => error instanceof KubeError && (error.status === undefined || error.status === 429 || error.status >= 500)

export async function waitForReadyAfterRestart(kube: KubeClient, options: WaitReadyOptions): Promise<void> {
  let sawNotReady = false
  await waitFor(async () => {
    let node: KubeObject | undefined
    try {
      node = await kube.get({ apiVersion: 'v1', kind: 'Node', name: options.nodeName })
    } catch (error) {
      if (!apiAway(error)) throw error
      // Not counted as "left Ready": when the API is back, the Node's Ready must be newer than before the restart.
      return { done: false, seen: 'the API server not answering (K3s restarting?)' }
    }
    const now = readyCondition(node)
    if (now?.status !== 'True') sawNotReady = true
    return { done: readyAfterRestart(options.before, now, sawNotReady), seen: now ? `Ready=${now.status} since ${now.lastTransitionTime ?? '?'}` : 'no Ready condition' }
  }, { what: `Node ${options.nodeName} Ready after the restart`, timeoutMs: options.timeoutMs, intervalMs: 200, ...(options.signal ? { signal: options.signal } : {}), ...(options.progress ? { progress: options.progress } : {}) })
}
