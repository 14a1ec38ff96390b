#!/usr/bin/env tsx
// The lab's stand-in for the joxit/docker-registry-ui image, run by the lab's kubelet inside the pod's mount
// namespace: env as the image reads it (REGISTRY_TITLE, NGINX_PROXY_PASS_URL, NGINX_LISTEN_PORT, …) plus LAB_POD_IP.
import { startRegistryUiDouble } from '../src/controller/registry-ui-double.js'

const host = process.env.LAB_POD_IP
if (!host) {
  console.error('registry-ui-double: LAB_POD_IP is not set; the lab kubelet sets it to the pod IP')
  process.exitCode = 2
} else {
  const port = Number(process.env.NGINX_LISTEN_PORT ?? 80)
  const server = await startRegistryUiDouble({ host, port, env: process.env })
  console.log(`registry UI double on http://${host}:${port}, /v2 → ${process.env.NGINX_PROXY_PASS_URL ?? '(no proxy)'}`)
  process.once('SIGTERM', () => {
    server.closeAllConnections()
    server.close()
  })
}
