import { checkStep, leftToFullVerify, type Component, type Secret, type ToolContext } from '@homelab/core'
import { retiredHostsLeft, type MergeLimits } from './merge-registries-yaml.js'
import { readNodeFiles, type NodeFiles } from './node-files.js'
import { nodeTrustStep, TRUST_MATERIAL_STEP } from './node-trust-step.js'
import { forgetRetiredHostsStep, readRegistryHostRecord, recordRegistryHostStep, retiredRegistryHosts } from './registry-host-record.js'
import { readTrustMaterial, type TrustMaterial } from './registry-trust-material.js'
import { RestartRollout } from './restart-rollout.js'
import { trustNodes, type TrustNode } from './trust-nodes.js'
import { PUSH_TEST_IMAGE_STEP, pushTestImageStep, TEST_REPOSITORY, TEST_TAG } from './push-test-image.js'
import { verifyNodePullStep } from './verify-node-pull.js'

export type NodeTrustOptions = {
  /** The image `verify` pulls on every node; by default verify pushes its own small image first and pulls that. */
  testImage?: string
  limits?: MergeLimits
  /**
   * The login the nodes get, instead of registry.users[0]'s stored password: rotate-credentials hands in the new one,
   * so that its plan shows each node's change, which the stored (old) password would not.
   */
  login?: { username: string; password: Secret }
}

const once = <T>(make: () => Promise<T>): (() => Promise<T>) => {
  let made: Promise<T> | undefined
  return () => (made ??= make())
}

/*
 * Every node's files are read at once, before the runner gets to the node steps: the runner runs a few steps at a
 * time, and twenty nodes read in waves of four would cost five round trips where one is enough.
 */
function readAhead(ctx: ToolContext, nodes: readonly TrustNode[]): Map<string, Promise<NodeFiles>> {
  const paths = ctx.config.nodeTrust
  return new Map(nodes.map((node) => {
    const files = ctx.ssh.session(node.target).then((session) => readNodeFiles(session, paths))
    // The step awaits it and reports the failure; this only stops Node calling it unhandled in the meantime.
    files.catch(() => undefined)
    return [node.key, files]
  }))
}

export function createNodeTrust(options: NodeTrustOptions = {}): Component {
  return {
    name: 'node-trust',
    async bootstrap(ctx) {
      const nodes = trustNodes(ctx.config, ctx.acceptNewHostKeys)
      // No nodes, nothing to trust: do not even ask the cluster for credentials that may not exist yet.
      if (nodes.length === 0) return []
      const record = { kube: () => ctx.kube(), namespace: ctx.config.kubernetes.namespace, host: ctx.config.registry.hosts.registry }
      const recorded = once(() => readRegistryHostRecord(ctx.kube(), record.namespace))
      const retired = once(async () => retiredRegistryHosts(await recorded(), record.host))
      const material = once<TrustMaterial>(async () => {
        const [read, retiredHosts] = await Promise.all([readTrustMaterial(ctx.kube(), ctx.config, options.login), retired()])
        return { ...read, trust: { ...read.trust, retiredHosts } }
      })
      const files = readAhead(ctx, nodes)
      const rollout = new RestartRollout(nodes.length)
      const nodeSteps = nodes.map((node, index) => nodeTrustStep({
        node, index, session: () => ctx.ssh.session(node.target), files: files.get(node.key)!, material, rollout, kube: () => ctx.kube(), config: ctx.config,
        ...(options.limits ? { limits: options.limits } : {}),
      }))
      // Every node step succeeded (the step needs them all), so each file now is the merge of what was read.
      const leftOnNodes = async () => {
        const { trust } = await material()
        const path = ctx.config.nodeTrust.registriesYamlPath
        const left = await Promise.all(nodes.map(async (node) => retiredHostsLeft((await files.get(node.key)!).registriesYaml, trust, { host: node.label, path }, options.limits)))
        return new Set(left.flat())
      }
      return [
        checkStep(TRUST_MATERIAL_STEP, async () => void (await material())),
        recordRegistryHostStep({ ...record, recorded, needs: [TRUST_MATERIAL_STEP] }),
        ...nodeSteps,
        forgetRetiredHostsStep({ ...record, needs: nodeSteps.map((s) => s.name), retired, leftOnNodes }),
      ]
    },
    async verify(ctx) {
      const nodes = trustNodes(ctx.config, ctx.acceptNewHostKeys)
      if (nodes.length === 0) return []
      const push = options.testImage ? [] : [pushTestImageStep(ctx)]
      const ref = options.testImage ?? `${ctx.config.registry.hosts.registry}/${TEST_REPOSITORY}:${TEST_TAG}`
      const pulls = nodes.map((node) => verifyNodePullStep(node, () => ctx.ssh.session(node.target), ref))
      const steps = [...push, ...pulls.map((step) => (push.length > 0 ? { ...step, needs: [...(step.needs ?? []), PUSH_TEST_IMAGE_STEP] } : step))]
      return ctx.quick ? leftToFullVerify('node-trust', steps) : steps
    },
  }
}

/** The component every task and the root pipeline use. */
export const nodeTrust: Component = createNodeTrust()
