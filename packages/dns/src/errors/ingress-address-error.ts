import { HomelabError, type ErrorContext } from '@homelab/core'

/** Neither `ingress.ip` nor the Traefik Service gives the address the DNS records must point at. */
export class IngressAddressError extends HomelabError {
  constructor(message: string, context: ErrorContext = {}) {
    super(message, context)
  }
}
