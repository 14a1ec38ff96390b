import { isIP } from 'node:net'
import { X509Certificate } from 'node:crypto'
import { z } from 'zod'
import { Cpu, QuantityFormatError, Size } from './quantity.js'
import { Duration } from './duration.js'
import { expectedGot } from './config-issue-text.js'

/*
 * Field schemas shared by the config schema. Each one names what it expects in its message, so every issue reads
 * `key.path: expected …, got …` without per-call wording.
 */

const DNS_LABEL = /^[a-z0-9]([a-z0-9-]{0,61}[a-z0-9])?$/
const K8S_NAME = 'a Kubernetes name (lowercase letters, digits and -, at most 63, e.g. "registry")'

const text = (expected: string) => z.string({ error: (issue) => expectedGot(expected, issue.input) })

/** A string field with a check that explains itself; `check` returns a problem text or undefined. */
export function checkedString(expected: string, check: (value: string) => string | undefined) {
  return text(expected).superRefine((value, ctx) => {
    const problem = check(value)
    if (problem !== undefined) ctx.addIssue({ code: 'custom', message: problem, input: value })
  })
}

export function dnsNameProblem(value: string, expected: string): string | undefined {
  if (value.endsWith('.')) return expectedGot(`${expected} without a trailing dot`, value)
  if (value !== value.toLowerCase()) return expectedGot(`${expected} in lowercase`, value)
  const labels = value.split('.')
  if (value.length > 253 || !labels.every((label) => DNS_LABEL.test(label))) {
    return expectedGot(`${expected} (labels of a-z, 0-9 and -, not starting or ending with -, at most 63 characters)`, value)
  }
  return undefined
}

export const dnsNameField = (expected = 'a DNS name') => checkedString(expected, (v) => dnsNameProblem(v, expected))

export const ipField = () => checkedString('an IPv4 or IPv6 address', (v) => (isIP(v) ? undefined : expectedGot('an IPv4 or IPv6 address', v)))

/** An SSH or Pi-hole target: an address or a name. A dotted-quad that is not a valid IP is refused, not taken as a name. */
export const hostField = () =>
  checkedString('an IP address or a DNS name', (v) => {
    if (isIP(v)) return undefined
    if (/^[\d.]+$/.test(v) || v.includes(':')) return expectedGot('an IPv4 or IPv6 address', v)
    return dnsNameProblem(v, 'an IP address or a DNS name')
  })

export const k8sNameField = () =>
  checkedString(K8S_NAME, (v) => (v.length <= 63 && DNS_LABEL.test(v) ? undefined : expectedGot(K8S_NAME, v)))

export const httpUrlField = () =>
  checkedString('an http(s) URL', (v) => {
    const url = URL.canParse(v) ? new URL(v) : undefined
    if (!url || (url.protocol !== 'http:' && url.protocol !== 'https:')) return expectedGot('an http(s) URL', v)
    // Credentials in a URL end up in logs and error messages; they have their own keys.
    if (url.username || url.password) return 'expected an http(s) URL without credentials; put the password under its own key'
    return undefined
  })

/** Parses a typed value; a QuantityFormatError becomes an issue, anything else is a bug and propagates. */
function parsedWith<I, T>(parse: (input: I) => T) {
  return (input: I, ctx: z.RefinementCtx): T => {
    try {
      return parse(input)
    } catch (error) {
      if (!(error instanceof QuantityFormatError)) throw error
      ctx.addIssue({ code: 'custom', message: error.message, input })
      return z.NEVER
    }
  }
}

/** Memory or storage. A bare number is refused: `memory: 512` means 512 bytes to Kubernetes, never what was meant. */
export const sizeField = () =>
  text(Size.forms)
    .meta({ description: `Kubernetes quantity: ${Size.forms}`, pattern: '^\\d+(\\.\\d+)?(Ki|Mi|Gi|Ti|Pi|Ei|k|M|G|T|P|E)$' })
    .superRefine((v, ctx) => {
      if (/^\d+(\.\d+)?$/.test(v)) ctx.addIssue({ code: 'custom', message: expectedGot(`${Size.forms} (a unit is required)`, v), input: v })
    })
    .transform(parsedWith(Size.parse))

export const cpuField = () =>
  z
    .union([z.string().meta({ pattern: '^\\d+(\\.\\d+)?m?$' }), z.number().min(0)], { error: (issue) => expectedGot(Cpu.forms, issue.input) })
    .meta({ description: `CPU: ${Cpu.forms}` })
    .transform(parsedWith(Cpu.parse))

export const durationField = () =>
  text(Duration.forms)
    .meta({ description: Duration.forms, pattern: '^(\\d+(ms|s|m|h))+$' })
    .transform(parsedWith(Duration.parse))

/** PEM text of one or more certificates, checked by parsing the first. */
export function pemProblem(pem: string): string | undefined {
  if (!pem.includes('-----BEGIN CERTIFICATE-----')) return 'expected a PEM certificate (-----BEGIN CERTIFICATE-----)'
  try {
    new X509Certificate(pem)
    return undefined
  } catch (error) {
    return `expected a PEM certificate that parses, got one that does not (${(error as Error).message})`
  }
}

export const pemField = () => checkedString('a PEM certificate', pemProblem)

/** An image reference whose tag passes `tagCheck` (pinned, never `latest`). A digest pins as well as a tag. */
export function imageField(expected: string, tagCheck: (tag: string) => boolean) {
  return checkedString(expected, (v) => {
    const match = /^([^@\s]+?)(?::([\w][\w.-]{0,127}))?(@sha256:[a-f0-9]{64})?$/.exec(v)
    const tag = match?.[2]
    if (!match || tag === undefined || !tagCheck(tag)) return expectedGot(expected, v)
    return undefined
  })
}

export const imageTag = (image: string): string | undefined => /:([\w][\w.-]*)(@sha256:[a-f0-9]{64})?$/.exec(image)?.[1]

const K8S_SUBDOMAIN = /^[a-z0-9]([a-z0-9.-]{0,251}[a-z0-9])?$/
const K8S_SUBDOMAIN_TEXT = 'a Kubernetes object name (lowercase letters, digits, - and ., e.g. "local-path")'

/** Names of objects that allow dots (storage classes, Secrets, ConfigMaps), unlike namespaces. */
export const k8sObjectNameField = () =>
  checkedString(K8S_SUBDOMAIN_TEXT, (v) => (K8S_SUBDOMAIN.test(v) ? undefined : expectedGot(K8S_SUBDOMAIN_TEXT, v)))
