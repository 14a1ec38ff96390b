import type { KubeObject, ObjectRef } from './kube-object.js'

const keyOf = (ref: ObjectRef) => `${ref.apiVersion} ${ref.kind} ${ref.namespace ?? ''}/${ref.name}`

/**
 * What a component's apply steps read, for the waits that follow them in the same run. An apply step reads its object
 * anyway (the current state it compares with the server's dry-run); the wait after it wants the same object's status.
 * When the apply changed nothing, that read is as good as a new one, so the wait's first look takes it and only a wait
 * that has to go on reads again: a no-op bootstrap waits for nothing at the cost of no request. An apply that changes
 * its object forgets the read first, since the status in it is the old generation's.
 */
export class ObservedObjects {
  readonly #seen = new Map<string, KubeObject>()

  note(object: KubeObject): void {
    this.#seen.set(keyOf({ apiVersion: object.apiVersion, kind: object.kind, name: object.metadata.name, ...(object.metadata.namespace ? { namespace: object.metadata.namespace } : {}) }), object)
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
