import { lookup as dnsLookup, type LookupAddress, type LookupOptions } from 'node:dns'
import { isIP } from 'node:net'
import { Agent } from './undici-agent.js'

export type TlsTargetOptions = {
  /** PEM of the CA(s) to trust instead of the system roots: the lab's, or a Pi-hole's own. */
  ca?: string | Buffer | undefined
  /** Off by default; every caller that turns it on must say so to the user. */
  insecureSkipTlsVerify?: boolean | undefined
  /** SNI and certificate name when the URL's host is not the name on the certificate (a URL by IP). */
  servername?: string | undefined
  /** Connect to this IP for this host name, keeping Host and SNI: `.local` names and the lab are not in DNS. */
  resolve?: Readonly<Record<string, string>> | undefined
  timeoutMs: number
}

type LookupCallback = (error: NodeJS.ErrnoException | null, address: string | LookupAddress[], family?: number) => void

/** A `lookup` that answers pinned names itself and asks the system resolver for the rest. */
export function pinnedLookup(resolve: Readonly<Record<string, string>>) {
  return (hostname: string, options: LookupOptions, callback: LookupCallback): void => {
    const address = resolve[hostname.toLowerCase()]
    if (address === undefined) return void dnsLookup(hostname, options, callback as never)
    const family = isIP(address)
    // Node asks for every address (`all: true`) when it races IPv4 and IPv6; it then wants a list.
    if (options.all) callback(null, [{ address, family }])
    else callback(null, address, family)
  }
}

/** The undici Agent for one target, with its trust and name pinning. The client owns it and destroys it on close. */
export function createTargetDispatcher(options: TlsTargetOptions): Agent {
  const resolve = Object.fromEntries(Object.entries(options.resolve ?? {}).map(([host, ip]) => [host.toLowerCase(), ip]))
  return new Agent({
    connect: {
      ...(options.ca === undefined ? {} : { ca: options.ca }),
      ...(options.servername === undefined ? {} : { servername: options.servername }),
      rejectUnauthorized: options.insecureSkipTlsVerify !== true,
      ...(Object.keys(resolve).length === 0 ? {} : { lookup: pinnedLookup(resolve) }),
      timeout: options.timeoutMs,
    },
    headersTimeout: options.timeoutMs,
    bodyTimeout: options.timeoutMs,
  })
}
