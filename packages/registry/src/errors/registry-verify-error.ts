import { HomelabError } from '@homelab/core'

/** An end-to-end check of the registry found it not working as configured (a certificate, a pull, the metrics). */
export class RegistryVerifyError extends HomelabError {}
