import { refOf, type KubeObject, type ObjectRef } from './kube-object.js'

const keyOf = (ref: ObjectRef) => `${ref.apiVersion} ${ref.kind} ${ref.namespace ?? ''}/${ref.name}`

/**
 * What a component's apply steps read, for the waits that follow them in the same run. An apply step reads its object
 * anyway (the current state it compares with the server's dry-run); the wait after it wants the same object's status.
 * When the apply changed nothing and that read shows the object ready, the wait is over without a request of its own:
 * a no-op bootstrap waits for nothing at no cost. Anything else is polled afresh. An apply that changes its object
 * forgets the read first, since the status in it is the old generation's. Only the steps of objects a wait is for
 * are given one, so nothing else (no Secret's data) is kept.
 */
export class ObservedObjects {
  readonly #seen = new Map<string, KubeObject>()

  note(object: KubeObject): void {
    this.#seen.set(keyOf(refOf(object)), object)
  }

  forget(ref: ObjectRef): void {
    this.#seen.delete(keyOf(ref))
  }

  /** The object an apply step read and left unchanged, once: a later look reads afresh. */
  take(ref: ObjectRef): KubeObject | undefined {
    const key = keyOf(ref)
    const object = this.#seen.get(key)
    this.#seen.delete(key)
    return object
  }
}
