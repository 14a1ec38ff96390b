import type { HomelabConfig } from '@homelab/core'
import type { DnsRecord } from './dns-record.js'

/** The service names the homelab serves through Traefik: the registry, its UI, LocalStack (when each is on). */
export function serviceHosts(config: HomelabConfig): string[] {
  return [
    config.registry.hosts.registry,
    ...(config.registry.ui.enabled ? [config.registry.hosts.ui] : []),
    ...(config.localstack.enabled ? [config.localstack.host] : []),
  ]
}

/**
 * `records: a`: an A record per service name. `records: cname`: one A record for `dns.ingressHost` and a CNAME per
 * service pointing at it (a CNAME cannot point at an IP).
 */
export function wantedRecords(config: HomelabConfig, ingressIp: string): DnsRecord[] {
  const hosts = serviceHosts(config)
  if (config.dns.records === 'a') return hosts.map((name) => ({ type: 'A', name, ip: ingressIp }))
  const ingressHost = config.dns.ingressHost
  return [{ type: 'A', name: ingressHost, ip: ingressIp }, ...hosts.filter((h) => h !== ingressHost).map((name): DnsRecord => ({ type: 'CNAME', name, target: ingressHost }))]
}

/** `.local` is mDNS's (RFC 6762): many clients never ask a DNS server for it. */
export function localDomainWarning(domain: string): string | undefined {
  if (!/(^|\.)local$/i.test(domain)) return undefined
  return `domain ${domain} ends in .local, the mDNS domain: macOS, iOS and systemd-resolved may never ask Pi-hole for these names; home.arpa (RFC 8375) avoids that`
}
