import { StepSkipped } from '@homelab/core'
import { NodeRolloutError } from './errors/node-rollout-error.js'

/**
 * One K3s restart at a time, in config order (`nodes[0]` first), across every node step of a run. Each node either
 * takes its turn or passes (nothing to change, --plan, or its check failed); node i waits for all before it. A node
 * that does not come back stops the rollout: every later turn is refused before it touches its node.
 */
export class RestartRollout {
  readonly #settled: Promise<void>[]
  readonly #settle: (() => void)[] = []
  #stoppedBy: NodeRolloutError | undefined

  constructor(nodeCount: number) {
    this.#settled = Array.from({ length: nodeCount }, (_, i) => new Promise<void>((resolve) => (this.#settle[i] = resolve)))
  }

  get stoppedBy(): NodeRolloutError | undefined {
    return this.#stoppedBy
  }

  /** Node `index` will not restart in this run. */
  pass(index: number): void {
    this.#settle[index]?.()
  }

  async turn<T>(index: number, signal: AbortSignal, work: () => Promise<T>): Promise<T> {
    try {
      await untilSettledOrAborted(Promise.all(this.#settled.slice(0, index)), signal)
      if (this.#stoppedBy) {
        throw new StepSkipped(`not touched: the rollout stopped at ${this.#stoppedBy.node}, which did not come back after its restart`)
      }
      return await work()
    } catch (error) {
      if (error instanceof NodeRolloutError) this.#stoppedBy = error
      throw error
    } finally {
      this.pass(index)
    }
  }
}

/** Waits for `before`; an abort (Ctrl-C) skips the waiting node instead, and the listener never outlives the wait. */
function untilSettledOrAborted(before: Promise<unknown>, signal: AbortSignal): Promise<void> {
  if (signal.aborted) return Promise.reject(new StepSkipped('interrupted while waiting for the nodes before it'))
  let stop: () => void = () => undefined
  const abort = new Promise<never>((_, reject) => {
    stop = () => reject(new StepSkipped('interrupted while waiting for the nodes before it'))
    signal.addEventListener('abort', stop, { once: true })
  })
  return Promise.race([before.then(() => undefined), abort]).finally(() => signal.removeEventListener('abort', stop))
}
