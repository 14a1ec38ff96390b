import { toolNamespace, type Component } from '@homelab/core'

/** Every component, in bootstrap order (the order turbo's dependsOn also encodes). */
export const COMPONENTS: readonly Component[] = [toolNamespace]
