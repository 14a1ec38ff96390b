import { HomelabError } from '@homelab/core'

/** A phase of the garbage-collection runbook could not be carried out; the message says which and what state it left. */
export class GcError extends HomelabError {}
