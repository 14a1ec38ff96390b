import { validateManifest as validateAgainstSchema, type KubeObject } from '@homelab/core'

/** Checks a rendered object against its schema before anything is sent; the error names the object and field. */
export const validateManifest = (object: KubeObject): KubeObject =>
  validateAgainstSchema(object, 'fix the manifest under manifests/localstack or the localstack.* config value that sets this field')

export { sortKeys } from '@homelab/core'
