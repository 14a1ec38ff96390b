import { readFileSync } from 'node:fs'
import { request } from 'node:https'
import { parse } from 'yaml'
import { LabKubeError } from '../errors/lab-error.js'

type Kubeconfig = {
  clusters?: { cluster?: { server?: string; 'certificate-authority-data'?: string } }[]
  users?: { user?: { token?: string } }[]
}

type KubeAnswer = { status: number; body: string }

/*
 * The node-side programs run once per `systemctl restart` and must start fast, so they talk to the API server with
 * node:https and the lab kubeconfig (server, inline CA, admin token) rather than loading a full client.
 */
function kubeRequest(kubeconfigPath: string, method: string, path: string, body?: unknown, contentType = 'application/json'): Promise<KubeAnswer> {
  const config = parse(readFileSync(kubeconfigPath, 'utf8')) as Kubeconfig
  const cluster = config.clusters?.[0]?.cluster
  const token = config.users?.[0]?.user?.token
  if (!cluster?.server || !token) throw new LabKubeError(`no server or token in ${kubeconfigPath}`, { path: kubeconfigPath, hint: 'run `pnpm lab up`' })
  const ca = cluster['certificate-authority-data'] ? Buffer.from(cluster['certificate-authority-data'], 'base64') : undefined
  const data = body === undefined ? undefined : JSON.stringify(body)
  return new Promise((resolve, reject) => {
    const req = request(new URL(path, cluster.server), { method, ca, headers: { authorization: `Bearer ${token}`, 'content-type': contentType, accept: 'application/json' } }, (res) => {
      let text = ''
      res.on('data', (chunk: Buffer) => (text += chunk.toString()))
      res.on('end', () => resolve({ status: res.statusCode ?? 0, body: text }))
    })
    req.once('error', (error) => reject(new LabKubeError(`${method} ${path} on the lab API server failed`, { cause: error, hint: 'is the lab up? (`pnpm lab status`)' })))
    req.end(data)
  })
}

/** Kubernetes condition times have second precision: RFC 3339 without fractions. */
export const kubeTime = (date: Date): string => `${date.toISOString().slice(0, 19)}Z`

export type NodeReadiness = { ready: boolean; reason: string; message: string }

/** Pure. The Ready condition (and the others a kubelet reports as False) for a merge patch of the Node's status. */
export function readyConditions(readiness: NodeReadiness, now: Date) {
  const time = kubeTime(now)
  return [
    { type: 'Ready', status: readiness.ready ? 'True' : 'False', reason: readiness.reason, message: readiness.message, lastHeartbeatTime: time, lastTransitionTime: time },
  ]
}

/** Creates `Node/<name>` if absent (labels as a K3s node has them) and sets its addresses; returns whether it created it. */
export async function ensureNodeObject(kubeconfigPath: string, nodeName: string, host: string, role: 'server' | 'agent'): Promise<boolean> {
  const labels = { 'kubernetes.io/hostname': nodeName, 'kubernetes.io/os': 'linux', 'homelab.lab/node': 'true', ...(role === 'server' ? { 'node-role.kubernetes.io/control-plane': 'true' } : {}) }
  const created = await kubeRequest(kubeconfigPath, 'POST', '/api/v1/nodes', { apiVersion: 'v1', kind: 'Node', metadata: { name: nodeName, labels } })
  if (created.status !== 201 && created.status !== 409) throw new LabKubeError(`creating Node ${nodeName}: ${created.status} ${created.body}`, { object: `Node/${nodeName}`, status: created.status })
  const patched = await kubeRequest(kubeconfigPath, 'PATCH', `/api/v1/nodes/${nodeName}/status`, { status: { addresses: [{ type: 'InternalIP', address: host }, { type: 'Hostname', address: nodeName }] } }, 'application/merge-patch+json')
  if (patched.status !== 200) throw new LabKubeError(`setting the addresses of Node ${nodeName}: ${patched.status} ${patched.body}`, { object: `Node/${nodeName}`, status: patched.status })
  return created.status === 201
}

/** What a kubelet does on start and on failure: sets the Node's Ready condition with fresh times. */
export async function setNodeReady(kubeconfigPath: string, nodeName: string, readiness: NodeReadiness, now = new Date()): Promise<void> {
  const patch = { status: { conditions: readyConditions(readiness, now) } }
  const answer = await kubeRequest(kubeconfigPath, 'PATCH', `/api/v1/nodes/${nodeName}/status`, patch, 'application/merge-patch+json')
  if (answer.status !== 200) throw new LabKubeError(`setting Ready on Node ${nodeName}: ${answer.status} ${answer.body}`, { object: `Node/${nodeName}`, status: answer.status })
}

/** The Ready condition's status and times as the API server holds them, or undefined when the Node has none. */
export async function nodeReadyCondition(kubeconfigPath: string, nodeName: string): Promise<{ status: string; lastHeartbeatTime: string; lastTransitionTime: string } | undefined> {
  const answer = await kubeRequest(kubeconfigPath, 'GET', `/api/v1/nodes/${nodeName}`)
  if (answer.status === 404) return undefined
  if (answer.status !== 200) throw new LabKubeError(`reading Node ${nodeName}: ${answer.status} ${answer.body}`, { object: `Node/${nodeName}`, status: answer.status })
  const node = JSON.parse(answer.body) as { status?: { conditions?: { type: string; status: string; lastHeartbeatTime: string; lastTransitionTime: string }[] } }
  return node.status?.conditions?.find((c) => c.type === 'Ready')
}

export async function deleteNodeObject(kubeconfigPath: string, nodeName: string): Promise<void> {
  const answer = await kubeRequest(kubeconfigPath, 'DELETE', `/api/v1/nodes/${nodeName}`)
  if (answer.status !== 200 && answer.status !== 404) throw new LabKubeError(`deleting Node ${nodeName}: ${answer.status} ${answer.body}`, { object: `Node/${nodeName}`, status: answer.status })
}
