import { toolNamespace, type Component } from '@homelab/core'
import { dns } from '@homelab/dns'

/** Every component, in bootstrap order (the order turbo's dependsOn also encodes). */
export const COMPONENTS: readonly Component[] = [toolNamespace, dns]
