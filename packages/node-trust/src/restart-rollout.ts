import { StepSkipped } from '@homelab/core'
import { NodeRolloutError } from './errors/node-rollout-error.js'

/**
 * One K3s restart at a time across every node step of a run, in the order the steps ask. A node that does not come
 * back stops the rollout: every later turn is refused before it touches its node.
 */
export class RestartRollout {
  #queue: Promise<unknown> = Promise.resolve()
  #stoppedBy: NodeRolloutError | undefined
  #turns = 0

  /** How many turns ran their work (for tests and the recap). */
  get turns(): number {
    return this.#turns
  }

  get stoppedBy(): NodeRolloutError | undefined {
    return this.#stoppedBy
  }

  turn<T>(work: () => Promise<T>): Promise<T> {
    const mine = this.#queue.then(async () => {
      if (this.#stoppedBy) {
        throw new StepSkipped(`not touched: the rollout stopped at ${this.#stoppedBy.node}, which did not come back after its restart`)
      }
      this.#turns++
      try {
        return await work()
      } catch (error) {
        if (error instanceof NodeRolloutError) this.#stoppedBy = error
        throw error
      }
    })
    // The queue only orders turns; each caller gets its own outcome through `mine`.
    this.#queue = mine.catch(() => undefined)
    return mine
  }
}
