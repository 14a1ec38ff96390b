import { randomBytes } from 'node:crypto'
import { Secret } from '../secret.js'
import type { KubeClient } from './kube-client.js'
import type { KubeObject, ObjectRef } from './kube-object.js'

export type SecretValueSpec = {
  /** A value from config (env or file); wins over what is stored. */
  given?: Secret
  /** Bytes of randomness when the value has to be generated. */
  bytes?: number
}

export type ResolvedSecrets = {
  values: Record<string, Secret>
  /** The Secret object holding every value, to apply (an unchanged one is an `ok` apply). */
  object: KubeObject
  /** Keys that had no value anywhere and were generated now. */
  generated: string[]
  /** The Secret as the cluster keeps it now (undefined: none yet), for what else a caller keeps on it. */
  stored: KubeObject | undefined
}

/**
 * Values given in config win; otherwise the value kept in the cluster is reused; otherwise one is generated. The
 * returned object must be applied for a generated value to survive: until then a re-run would generate another.
 */
export async function resolveSecretValues(
  kube: KubeClient,
  ref: ObjectRef & { namespace: string },
  specs: Record<string, SecretValueSpec>,
  labels: Record<string, string> = {},
): Promise<ResolvedSecrets> {
  const stored = await kube.get({ ...ref, apiVersion: 'v1', kind: 'Secret' })
  const storedData = (stored?.['data'] ?? {}) as Record<string, string>
  const values: Record<string, Secret> = {}
  const generated: string[] = []
  for (const key of Object.keys(specs).sort()) {
    const spec = specs[key]!
    const kept = storedData[key]
    if (spec.given) values[key] = spec.given
    else if (kept !== undefined) values[key] = new Secret(Buffer.from(kept, 'base64').toString('utf8'))
    else {
      values[key] = new Secret(randomBytes(spec.bytes ?? 24).toString('base64url'))
      generated.push(key)
    }
  }
  const object: KubeObject = {
    apiVersion: 'v1',
    kind: 'Secret',
    metadata: { name: ref.name, namespace: ref.namespace, labels },
    type: 'Opaque',
    data: Object.fromEntries(Object.entries(values).map(([k, v]) => [k, Buffer.from(v.reveal(), 'utf8').toString('base64')])),
  }
  return { values, object, generated, stored }
}
