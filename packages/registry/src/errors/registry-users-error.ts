import { HomelabError } from '@homelab/core'

/** A `users add|remove|rotate` request that cannot be carried out as asked (unknown user, password from config, …). */
export class RegistryUsersError extends HomelabError {}
