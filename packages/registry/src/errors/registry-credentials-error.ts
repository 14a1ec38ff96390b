import { HomelabError } from '@homelab/core'

/** The registry's passwords cannot be worked out safely from what the cluster keeps (which stored Secret is current?). */
export class RegistryCredentialsError extends HomelabError {}
