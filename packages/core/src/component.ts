import type { Step } from './step.js'
import type { ToolContext } from './tool-context.js'

/**
 * A piece of the homelab (registry, dns, node-trust, localstack). Each package exports one; its own tasks and the
 * root pipeline build their steps from the same functions, so `pnpm --filter dns run sync` and `pnpm turbo bootstrap`
 * do exactly the same thing for DNS.
 */
export type Component = {
  name: string
  /** The steps that converge it; under --plan the same steps only diff. */
  bootstrap(ctx: ToolContext): Promise<Step<any, any, any>[]>
  /** Read-only end-to-end checks. */
  verify?(ctx: ToolContext): Promise<Step<any, any, any>[]>
}
