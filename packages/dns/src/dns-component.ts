import { checkStep, retryPolicyFromConfig, StepSkipped, type Component, type Step, type ToolContext } from '@homelab/core'
import { dnsAnswersStep, expectedAnswers } from './dns-answers-step.js'
import { configMapOwnership } from './dns-ownership.js'
import { dnsRecordsStep } from './dns-records-step.js'
import { resolveIngressIp } from './ingress-address.js'
import { piholeConnector, type PiholeConnector } from './pihole-connector.js'
import { localDomainWarning, wantedRecords } from './wanted-records.js'

export type DnsComponentOptions = {
  /** Take over foreign records on wanted names (`sync --adopt`). */
  adopt?: boolean
  /** Also remove owned records no longer wanted (`prune`). */
  prune?: boolean
}

export const INGRESS_STEP = 'dns ingress address'

/** Pi-hole records for every service name, on every configured Pi-hole (each its own step: one failing stops no other). */
export function dnsComponent(options: DnsComponentOptions = {}): Component {
  return {
    name: 'dns',
    bootstrap: async (ctx) => {
      const off = disabledStep(ctx)
      if (off) return [off]
      const ingress = ingressAddressStep(ctx)
      const ownership = configMapOwnership(ctx.kube(), { namespace: ctx.config.kubernetes.namespace, name: ctx.config.dns.stateConfigMap })
      const wanted = () => wantedRecords(ctx.config, ingress.ip())
      const steps = connectors(ctx).map((pihole) => dnsRecordsStep({ pihole, ownership, wanted, adopt: options.adopt ?? false, prune: options.prune ?? false, needs: [INGRESS_STEP] }))
      return [ingress.step, ...steps]
    },
    verify: async (ctx) => {
      const off = disabledStep(ctx)
      if (off) return [off]
      const ingress = ingressAddressStep(ctx)
      const expected = () => expectedAnswers(wantedRecords(ctx.config, ingress.ip()), ingress.ip())
      const timeoutMs = ctx.config.timeouts.http.milliseconds
      return [ingress.step, ...connectors(ctx).map((c) => dnsAnswersStep({ label: c.label, pihole: c.pihole, expected, timeoutMs, needs: [INGRESS_STEP] }))]
    },
  }
}

/** `dns` with the defaults: what `pnpm turbo bootstrap` runs. */
export const dns: Component = dnsComponent()

function connectors(ctx: ToolContext): PiholeConnector[] {
  const timeoutMs = ctx.config.timeouts.http.milliseconds
  const retries = retryPolicyFromConfig(ctx.config.retries)
  return ctx.config.dns.piholes.map((pihole, index) => piholeConnector({ pihole, index, timeoutMs, retries, signal: ctx.signal, shared: ctx.shared, onNotice: (message) => ctx.reporter.warn('dns', message) }))
}

function disabledStep(ctx: ToolContext): Step | undefined {
  // Switched off means "leave the Pi-holes alone", not "take our records out": DNS may have moved elsewhere on purpose.
  const reason = !ctx.config.dns.enabled
    ? 'dns.enabled is false: the Pi-holes are left as they are, records this tool made included (pnpm teardown takes those out)'
    : ctx.config.dns.piholes.length === 0 ? 'no Pi-hole in dns.piholes' : undefined
  return reason === undefined ? undefined : checkStep('dns', async () => {
    throw new StepSkipped(reason)
  })
}

/** Finds the address every record points at, once per run, and says once if the domain is `.local`. */
function ingressAddressStep(ctx: ToolContext): { step: Step; ip(): string } {
  let found: string | undefined
  const step = checkStep(INGRESS_STEP, async (stepCtx) => {
    const warning = localDomainWarning(ctx.config.domain)
    if (warning) stepCtx.warn(warning)
    const { ip, source } = await resolveIngressIp(ctx.config, () => ctx.kube())
    stepCtx.progress(`records point at ${ip} (from ${source})`)
    found = ip
  })
  return {
    step,
    ip: () => {
      if (found === undefined) throw new Error(`${INGRESS_STEP} has not run`)
      return found
    },
  }
}
