import type { StepContext } from '@homelab/core'
import { describeError } from '@homelab/core'
import { SmokeCheckError } from './errors/smoke-check-error.js'
import type { AwsClients } from './aws-clients.js'

/** What every smoke check gets: the clients, a prefix unique to this run, and where it talks to. */
export type SmokeRun = { aws: AwsClients; prefix: string; region: string; endpointUrl: string; publicHost: string; ctx: StepContext }

type SdkFailure = { name?: string; message?: string; $metadata?: { httpStatusCode?: number } }

/** One AWS call; a failure names the service, the operation, the endpoint and what AWS (or LocalStack) said. */
export async function awsCall<T>(run: SmokeRun, service: string, operation: string, call: () => Promise<T>): Promise<T> {
  try {
    return await call()
  } catch (error) {
    const sdk = error as SdkFailure
    const status = sdk.$metadata?.httpStatusCode
    const said = `${sdk.name ?? 'Error'}${status ? ` (HTTP ${status})` : ''}: ${sdk.message ?? String(error)}`
    throw new SmokeCheckError(`${service} ${operation} on ${run.endpointUrl} failed: ${said}`, { service, operation, host: run.publicHost, ...(status ? { status } : {}), cause: error })
  }
}

/** A failed expectation about an answer (wrong bytes, no message): not an AWS error, but the check's own finding. */
export function expectThat(condition: boolean, service: string, operation: string, message: string): asserts condition {
  if (!condition) throw new SmokeCheckError(`${service} ${operation}: ${message}`, { service, operation })
}

/**
 * What a smoke check created and has not deleted yet. The check deletes as part of what it proves; whatever is left
 * after a failure is deleted here, and a cleanup that fails then is a warning, since the first failure is the news.
 */
export class SmokeResources {
  readonly #undo = new Map<string, () => Promise<unknown>>()

  created(label: string, undo: () => Promise<unknown>): void {
    this.#undo.set(label, undo)
  }

  deleted(label: string): void {
    this.#undo.delete(label)
  }

  async release(ctx: StepContext): Promise<void> {
    for (const [label, undo] of [...this.#undo].reverse()) {
      try {
        await undo()
      } catch (error) {
        ctx.warn(`could not delete ${label} after the failed check: ${describeError(error)}`)
      }
    }
    this.#undo.clear()
  }
}

/** Runs a check with its own resource list, releasing what is left whatever happens. */
export async function withResources(run: SmokeRun, check: (resources: SmokeResources) => Promise<void>): Promise<void> {
  const resources = new SmokeResources()
  try {
    await check(resources)
  } finally {
    await resources.release(run.ctx)
  }
}
