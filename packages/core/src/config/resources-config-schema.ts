import { z } from 'zod'
import { cpuField, k8sObjectNameField, sizeField } from './config-fields.js'

type ResourceDefaults = { requests: { memory: string; cpu: string }; limits: { memory: string; cpu: string } }

const amounts = (defaults: { memory: string; cpu: string }) =>
  z.strictObject({ memory: sizeField().prefault(defaults.memory), cpu: cpuField().prefault(defaults.cpu) }).prefault({})

/**
 * Pod requests and limits. A limit below its request is refused here, naming both keys, because the API server would
 * only refuse the pod later with a less helpful message. `keyPath` is where the schema sits, for that message.
 */
export function resourcesSchema(keyPath: string, defaults: ResourceDefaults) {
  return z
    .strictObject({ requests: amounts(defaults.requests), limits: amounts(defaults.limits) })
    .superRefine(({ requests, limits }, ctx) => {
      // A field that failed to parse is already reported; comparing it would only add noise.
      if (![requests.memory, requests.cpu, limits.memory, limits.cpu].every(Boolean)) return
      const pairs = [
        ['memory', requests.memory.bytes, limits.memory.bytes, requests.memory, limits.memory],
        ['cpu', requests.cpu.millicores, limits.cpu.millicores, requests.cpu, limits.cpu],
      ] as const
      for (const [kind, requested, limited, requestText, limitText] of pairs) {
        if (limited >= requested) continue
        ctx.addIssue({
          code: 'custom',
          path: ['limits', kind],
          message: `expected at least ${keyPath}.requests.${kind} (${requestText}), got ${limitText}; a limit below its request is refused by Kubernetes`,
        })
      }
    })
    .prefault({})
}

/** A PersistentVolumeClaim's size and class. */
export const storageSchema = (defaults: { size: string; storageClass: string }) =>
  z.strictObject({ size: sizeField().prefault(defaults.size), storageClass: k8sObjectNameField().prefault(defaults.storageClass) }).prefault({})
