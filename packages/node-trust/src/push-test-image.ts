import { checkStep, type Step, type ToolContext } from '@homelab/core'
import { buildImage, endpointClient, pushImage, registryEndpoint, storedRegistryPasswords } from '@homelab/registry'

/** Where node-trust's verify pushes the image every node then pulls; a fixed tag, so re-runs reuse its blobs. */
export const TEST_REPOSITORY = 'homelab-devtools/node-trust-verify'
export const TEST_TAG = '1'
/** `repository:tag` under the registry host. */
export const TEST_IMAGE_PATH = `${TEST_REPOSITORY}:${TEST_TAG}`
export const PUSH_TEST_IMAGE_STEP = 'push the node pull test image'

/*
 * verify must not depend on what another component's verify left behind: the registry's own verify deletes its image
 * after checking it. So node-trust pushes its own (a few hundred bytes, the same bytes every run) before the pulls.
 */
export function pushTestImageStep(ctx: ToolContext): Step<null, never> {
  return checkStep(PUSH_TEST_IMAGE_STEP, async () => {
    const kube = ctx.kube()
    const [endpoint, users] = await Promise.all([registryEndpoint(kube, ctx.config), storedRegistryPasswords(kube, ctx.config.registry)])
    const client = endpointClient(endpoint, ctx.config, { auth: users[0]! })
    try {
      await pushImage(client, TEST_REPOSITORY, TEST_TAG, buildImage([{ 'homelab-devtools/node-trust.txt': 'pulled through the node runtime by node-trust verify\n' }]))
    } finally {
      await client.close()
    }
  })
}
