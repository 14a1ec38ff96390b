import { checkStep, nodeSshTargets, type HomelabConfig, type SshPool, type SshTarget, type Step } from '@homelab/core'
import { DockerSocketError } from './errors/docker-socket-error.js'
import { HOST_DOCKER_SOCKET } from './render-lambda-executor.js'

export type DockerSocketCheck = { config: HomelabConfig; ssh: SshPool; acceptNewHostKeys: boolean }

const nodeTargets = ({ config, acceptNewHostKeys }: DockerSocketCheck): SshTarget[] => nodeSshTargets(config, acceptNewHostKeys)

/**
 * `lambda.executor: host-socket` must not be assumed: K3s nodes run containerd and usually have no Docker socket.
 * The Kubernetes API cannot see a node's files, so the nodes listed in homelab.yaml are asked over SSH; the pod may
 * land on any of them, so every one must have it. With no nodes listed it cannot be checked, and the run says so.
 */
export function dockerSocketStep(check: DockerSocketCheck): Step<null, never> {
  return checkStep('localstack docker socket on nodes', async (ctx) => {
    const targets = nodeTargets(check)
    if (targets.length === 0) {
      ctx.warn(`cannot check that nodes have ${HOST_DOCKER_SOCKET}: the Kubernetes API does not show node files and no nodes are listed in homelab.yaml; the pod will not start on a node without it (hostPath type Socket)`)
      return
    }
    const missing: string[] = []
    for (const target of targets) {
      const session = await check.ssh.session(target)
      const result = await session.exec(['test', '-S', HOST_DOCKER_SOCKET])
      if (result.code !== 0) missing.push(`${target.configKey} (${target.host})`)
    }
    if (missing.length > 0) {
      throw new DockerSocketError(`no Docker socket at ${HOST_DOCKER_SOCKET} on ${missing.join(', ')}; LocalStack could not run Lambda functions there`, {
        key: 'localstack.lambda.executor',
        hint: 'use localstack.lambda.executor: dind (the default), or install Docker on every node',
      })
    }
  })
}
