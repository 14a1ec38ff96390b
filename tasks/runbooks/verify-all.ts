import { runComponents, runSteps, type Component, type RunResult, type ToolContext } from '@homelab/core'
import { registryTestImageStep } from './registry-test-image.js'

/**
 * Every component's verify, in pipeline order. Before node-trust pulls its test image on every node, a step makes sure
 * the image is there (same bytes every time, so a no-op once pushed): the registry's own verify cleans up what it pushes.
 * A quick verify pulls nothing, so it pushes nothing either.
 */
export async function verifyAll(components: readonly Component[], ctx: ToolContext): Promise<RunResult[]> {
  const results: RunResult[] = []
  for (const component of components) {
    if (component.name === 'node-trust' && ctx.config.nodes.length > 0 && !ctx.quick) {
      results.push(await runSteps([registryTestImageStep(ctx)], { title: 'registry test image', plan: ctx.plan, reporter: ctx.reporter, signal: ctx.signal }))
    }
    if (component.verify) results.push(...(await runComponents([component], 'verify', ctx)))
  }
  return results
}
