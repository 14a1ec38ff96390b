import { request } from 'node:http'
import type { Container } from './kube-objects.js'
import { resolveTargetPort } from './service-addresses.js'

/**
 * The container's readiness probe (httpGet on the pod IP): ready on 200–399, as the kubelet decides. No probe:
 * ready once running. A probe the lab cannot run (exec, tcpSocket, https) counts as passing.
 */
export function probeReadiness(container: Container, podIp: string, timeoutMs = 1_000): Promise<boolean> {
  const probe = container.readinessProbe?.httpGet
  if (!probe || (probe.scheme ?? 'HTTP').toUpperCase() !== 'HTTP') return Promise.resolve(true)
  const port = resolveTargetPort(probe.port, Number.NaN, [container])
  if (port === undefined || Number.isNaN(port)) return Promise.resolve(false)
  return new Promise((resolve) => {
    const req = request({ host: podIp, port, path: probe.path ?? '/', method: 'GET', timeout: timeoutMs, headers: { 'user-agent': 'kube-probe/1.20' } }, (res) => {
      res.resume()
      resolve((res.statusCode ?? 0) >= 200 && (res.statusCode ?? 0) < 400)
    })
    req.on('timeout', () => req.destroy())
    req.on('error', () => resolve(false)) // refused or reset: not ready, which is the answer
    req.end()
  })
}
