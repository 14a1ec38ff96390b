import { toolNamespace, type Component } from '@homelab/core'
import { dns } from '@homelab/dns'
import { localstack } from '@homelab/localstack'
import { nodeTrust } from '@homelab/node-trust'
import { registry } from '@homelab/registry'

/** Every component, in bootstrap order (the order turbo's dependsOn also encodes). */
export const COMPONENTS: readonly Component[] = [toolNamespace, registry, dns, nodeTrust, localstack]
