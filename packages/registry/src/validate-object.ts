import { validateManifest, type KubeObject } from '@homelab/core'

/** Checks a rendered object against its schema before anything is sent; the error names the object and field. */
export const validateObject = (object: KubeObject): KubeObject =>
  validateManifest(object, 'fix the manifest under manifests/registry or the registry.* config value that sets this field')

export { sortKeys } from '@homelab/core'
