import type { HomelabConfig } from '@homelab/core'
import type { IContainer } from 'kubernetes-models/v1/Container'
import type { IEnvVar } from 'kubernetes-models/v1/EnvVar'
import type { IVolume } from 'kubernetes-models/v1/Volume'
import type { IVolumeMount } from 'kubernetes-models/v1/VolumeMount'
import { MANIFEST_FILES, readManifest } from './manifest-files.js'

type Localstack = HomelabConfig['localstack']

/** What the Lambda executor adds to the pod: LocalStack's env and mounts, extra containers, extra volumes. */
export type LambdaExecutorParts = { env: IEnvVar[]; mounts: IVolumeMount[]; sidecars: IContainer[]; volumes: IVolume[] }

const NONE: LambdaExecutorParts = { env: [], mounts: [], sidecars: [], volumes: [] }
const DIND_SOCKET_DIR = '/var/run/dind'
export const HOST_DOCKER_SOCKET = '/var/run/docker.sock'

/**
 * Community Lambda runs functions as Docker containers. Nothing is added when Lambda is not wanted; `dind` adds a
 * privileged Docker engine beside LocalStack, `host-socket` mounts the node's socket (checked by preflight).
 */
export function renderLambdaExecutor(localstack: Localstack): LambdaExecutorParts {
  if (!localstack.services.includes('lambda')) return NONE
  // The first invoke pulls the runtime image inside the engine: LocalStack's 20 s default is too short for that.
  const timeout = { name: 'LAMBDA_RUNTIME_ENVIRONMENT_TIMEOUT', value: '60' }
  if (localstack.lambda.executor === 'host-socket') {
    return {
      env: [timeout],
      mounts: [{ name: 'docker-socket', mountPath: HOST_DOCKER_SOCKET }],
      sidecars: [],
      // type Socket: the kubelet refuses to start the pod on a node without one, instead of mounting an empty folder.
      volumes: [{ name: 'docker-socket', hostPath: { path: HOST_DOCKER_SOCKET, type: 'Socket' } }],
    }
  }
  const dind = readManifest<IContainer>(MANIFEST_FILES.dindSidecar)
  dind.image = localstack.lambda.dindImage
  return {
    env: [timeout, { name: 'DOCKER_HOST', value: `unix://${DIND_SOCKET_DIR}/docker.sock` }],
    mounts: [{ name: 'dind-socket', mountPath: DIND_SOCKET_DIR }],
    sidecars: [dind],
    volumes: [
      { name: 'dind-socket', emptyDir: {} },
      { name: 'dind-storage', emptyDir: {} },
    ],
  }
}
