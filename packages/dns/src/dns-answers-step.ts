import { lookup, Resolver } from 'node:dns/promises'
import { isIP } from 'node:net'
import { checkStep, type Step } from '@homelab/core'
import type { PiholeConfig } from './connect-pihole.js'
import type { DnsRecord } from './dns-record.js'
import { DnsAnswerError } from './errors/dns-answer-error.js'

export type DnsAnswersStepOptions = {
  label: string
  pihole: PiholeConfig
  /** Read when the step runs: every name and the address it must resolve to. */
  expected: () => { name: string; ip: string }[]
  timeoutMs: number
  needs?: readonly string[]
}

/** Where a Pi-hole answers DNS: `dnsAddress`, else `resolveTo`, else the URL's host (looked up when it is a name). */
export async function piholeDnsServer(pihole: PiholeConfig): Promise<string> {
  const host = new URL(pihole.url).hostname.replace(/^\[|\]$/g, '')
  const address = pihole.dnsAddress ?? pihole.resolveTo ?? (isIP(host) ? host : (await lookup(host)).address)
  return isIP(address) === 6 ? `[${address}]:${pihole.dnsPort}` : `${address}:${pihole.dnsPort}`
}

/** Real DNS questions to the Pi-hole's resolver: each name must resolve to exactly the wanted address, nothing more. */
export function dnsAnswersStep(options: DnsAnswersStepOptions): Step<null, never> {
  return checkStep(`dns answers on ${options.label}`, async () => {
    const server = await piholeDnsServer(options.pihole)
    const resolver = new Resolver({ timeout: Math.min(options.timeoutMs, 5000), tries: 2 })
    resolver.setServers([server])
    const problems: string[] = []
    for (const { name, ip } of options.expected()) {
      const answer = await ask(resolver, name, isIP(ip) === 6 ? 6 : 4)
      const want = [ip]
      if (answer.error) problems.push(`${name}: ${answer.error}, want ${ip}`)
      else if (answer.ips.join(',') !== want.join(',')) problems.push(`${name}: answered ${answer.ips.join(', ')}, want ${ip} only`)
    }
    if (problems.length > 0) {
      throw new DnsAnswerError(`DNS ${server} (${options.label}) does not answer as its records say:\n${problems.join('\n')}`, {
        host: server, hint: 'run `pnpm --filter dns run sync`; another answer for the same name means a record this tool does not own',
      })
    }
  }, options.needs)
}

/** An answer or the resolver's error code: a missing name is a finding, not a crash. */
async function ask(resolver: Resolver, name: string, family: 4 | 6): Promise<{ ips: string[]; error?: string }> {
  try {
    const ips = family === 6 ? await resolver.resolve6(name) : await resolver.resolve4(name)
    return { ips: [...ips].sort() }
  } catch (error) {
    return { ips: [], error: `no answer (${(error as NodeJS.ErrnoException).code ?? (error as Error).message})` }
  }
}

/** Every name a Pi-hole must answer, with the address at the end of any CNAME chain. */
export function expectedAnswers(records: readonly DnsRecord[], ingressIp: string): { name: string; ip: string }[] {
  return records.map((r) => ({ name: r.name, ip: ingressIp }))
}
