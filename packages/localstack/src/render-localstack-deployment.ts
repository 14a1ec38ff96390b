import { createHash } from 'node:crypto'
import { ManifestError } from '@homelab/core'
import type { HomelabConfig, KubeObject } from '@homelab/core'
import type { IDeployment } from 'kubernetes-models/apps/v1/Deployment'
import type { IContainer } from 'kubernetes-models/v1/Container'
import type { IEnvVar } from 'kubernetes-models/v1/EnvVar'
import { MANIFEST_FILES, readManifest } from './manifest-files.js'
import { NAMES } from './localstack-names.js'
import { renderLambdaExecutor } from './render-lambda-executor.js'

type Localstack = HomelabConfig['localstack']

/** Variables LocalStack removed (DATA_DIR in 2.0; the rest in 3.0): setting them would only mislead a reader. */
export const REMOVED_VARIABLES = ['DATA_DIR', 'LAMBDA_EXECUTOR', 'EDGE_PORT', 'HOSTNAME_EXTERNAL'] as const

/** LocalStack's settings: the public host for the URLs it hands out, the services, and the edition's extras. */
export function localstackEnv(localstack: Localstack): IEnvVar[] {
  const env: IEnvVar[] = [
    // Behind Traefik's TLS: URLs LocalStack returns (S3 Location, queue URLs) must name the public host and port.
    { name: 'LOCALSTACK_HOST', value: `${localstack.host}:443` },
    { name: 'SERVICES', value: localstack.services.join(',') },
    // `path` keeps queue URLs on the public host; the default puts sqs.<region>. in front, which DNS does not know.
    { name: 'SQS_ENDPOINT_STRATEGY', value: 'path' },
  ]
  if (localstack.edition === 'token') {
    env.push(
      { name: 'LOCALSTACK_AUTH_TOKEN', valueFrom: { secretKeyRef: { name: NAMES.authTokenSecret, key: NAMES.authTokenKey } } },
      { name: 'PERSISTENCE', value: '1' },
    )
  }
  return env
}

/** The pod-template annotation that changes, and so rolls the pod, when the auth token does. */
export const AUTH_TOKEN_HASH_ANNOTATION = 'homelab-devtools/auth-token-hash'

/**
 * A secretKeyRef is read once, at container start: a new token in the Secret leaves the template as it was and the pod
 * running on the old one. A short hash of the token (never the token) in the template makes a new token a rollout,
 * and the same token the same render.
 */
export function authTokenHash(localstack: Localstack): string | undefined {
  if (localstack.edition !== 'token' || localstack.authToken === undefined) return undefined
  return `sha256:${createHash('sha256').update(localstack.authToken.reveal(), 'utf8').digest('hex').slice(0, 16)}`
}

function localstackContainer(deployment: IDeployment): IContainer {
  const container = deployment.spec?.template.spec?.containers.find((c) => c.name === NAMES.container)
  if (!container) throw new ManifestError(`manifest ${MANIFEST_FILES.deployment} has no container named ${NAMES.container}`, { path: MANIFEST_FILES.deployment, hint: 'restore the manifest with git' })
  return container
}

export function renderDeployment(localstack: Localstack): KubeObject {
  const deployment = readManifest<IDeployment>(MANIFEST_FILES.deployment)
  deployment.metadata = { ...deployment.metadata, name: NAMES.deployment, namespace: localstack.namespace }
  const lambda = renderLambdaExecutor(localstack)
  const container = localstackContainer(deployment)
  container.image = localstack.image
  container.env = [...localstackEnv(localstack), ...lambda.env].sort((a, b) => a.name.localeCompare(b.name))
  container.resources = {
    requests: { memory: localstack.resources.requests.memory.toString(), cpu: localstack.resources.requests.cpu.toString() },
    limits: { memory: localstack.resources.limits.memory.toString(), cpu: localstack.resources.limits.cpu.toString() },
  }
  container.volumeMounts = [...(container.volumeMounts ?? []), ...lambda.mounts]
  const template = deployment.spec!.template
  const hash = authTokenHash(localstack)
  if (hash) template.metadata = { ...template.metadata, annotations: { ...template.metadata?.annotations, [AUTH_TOKEN_HASH_ANNOTATION]: hash } }
  const pod = template.spec!
  pod.containers = [...pod.containers, ...lambda.sidecars]
  pod.volumes = [...(pod.volumes ?? []), ...lambda.volumes]
  return deployment as KubeObject
}
