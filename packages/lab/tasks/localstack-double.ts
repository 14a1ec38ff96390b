#!/usr/bin/env tsx
// The lab's stand-in for the localstack/localstack image, run by the lab's kubelet inside the pod's mount namespace
// with the Deployment's env (SERVICES, LOCALSTACK_HOST, SQS_ENDPOINT_STRATEGY, LOCALSTACK_AUTH_TOKEN, PERSISTENCE)
// plus LAB_POD_IP and LAB_LOCALSTACK_VERSION (the image tag).
import { homedir } from 'node:os'
import { startLocalstackDouble } from '../src/localstack/localstack-double.js'

// lambda-local expands ~/.aws from HOME, which a pod's environment does not have.
process.env.HOME ||= homedir()

const ip = process.env.LAB_POD_IP
if (!ip) {
  console.error('localstack-double: LAB_POD_IP is not set; the lab kubelet sets it to the pod IP')
  process.exitCode = 2
} else {
  // GATEWAY_LISTEN is LocalStack's own setting (`0.0.0.0:4566`); only its port matters on the pod IP.
  const port = Number(/:(\d+)$/.exec(process.env.GATEWAY_LISTEN ?? '')?.[1] ?? 4566)
  const double = await startLocalstackDouble({
    stateDir: process.env.LAB_LOCALSTACK_STATE ?? '/var/lib/localstack',
    ip,
    port,
    env: process.env,
    ...(process.env.LAB_LOCALSTACK_VERSION ? { version: process.env.LAB_LOCALSTACK_VERSION } : {}),
  })
  console.log(`LocalStack double on ${double.url} (SERVICES=${process.env.SERVICES ?? 'all five'})`)
  process.once('SIGTERM', () => void double.stop())
}
