import { z } from 'zod'
import { httpUrlField, ipField, k8sObjectNameField, pemField } from './config-fields.js'
import { resolveCaPair, resolveSecretPair, secretPair, type ConfigFileContext } from './config-file-fields.js'
import { serviceHostField } from './registry-config-schema.js'
import { expectedGot } from './config-issue-text.js'

const pihole = (file: ConfigFileContext) =>
  z
    .strictObject({
      url: httpUrlField(),
      // Shown in output instead of the URL when set; handy with two Pi-holes.
      name: z.string().min(1).optional(),
      version: z.enum(['auto', 'v6', 'v5']).default('auto'),
      ...secretPair('password'),
      ca: pemField().optional(),
      caFile: z.string().optional(),
      // A Pi-hole's own certificate is self-signed; turning checks off must be a per-instance, visible choice.
      insecureSkipTlsVerify: z.boolean().default(false),
      // Connect to this address while keeping the URL's host for Host and SNI, for names local DNS cannot resolve yet.
      resolveTo: ipField().optional(),
      // Where `verify` sends its DNS queries; default: resolveTo, else the URL's host.
      dnsAddress: ipField().optional(),
      dnsPort: z.number({ error: (issue) => (issue.code === 'invalid_type' ? expectedGot('a port number', issue.input) : undefined) }).int().min(1).max(65535).default(53),
    })
    .transform(resolveSecretPair(file, 'password'))
    .transform(resolveCaPair(file))

const piholes = (file: ConfigFileContext) =>
  z
    .array(pihole(file))
    .superRefine((list, ctx) => {
      list.forEach((entry, index) => {
        // One Pi-hole per host (and port, path): `http://pi`, `http://pi/` and `https://pi` are the same one, and would
        // share one ownership list. Unparsable URLs are reported elsewhere.
        const identity = (url: string) => {
          if (!URL.canParse(url)) return url
          const parsed = new URL(url)
          return `${parsed.host}${parsed.pathname.replace(/\/+$/, '')}`
        }
        const first = list.findIndex((other) => identity(other.url) === identity(entry.url))
        if (first < index) ctx.addIssue({ code: 'custom', path: [index, 'url'], message: `duplicate of dns.piholes[${first}].url (${JSON.stringify(list[first]!.url)}): one entry per Pi-hole, by http or https` })
      })
    })
    .default([])

export const dnsSchema = (file: ConfigFileContext) =>
  z
    .strictObject({
      enabled: z.boolean().default(true),
      piholes: piholes(file),
      // A records by default: a CNAME change makes FTL restart, and a CNAME cannot point at an IP anyway.
      records: z.enum(['a', 'cname']).default('a'),
      // With records: cname, this name gets the A record and the service names point at it.
      ingressHost: serviceHostField().default('ingress'),
      // Pi-hole records carry no owner: this ConfigMap lists the ones the tool created, the only ones it touches.
      stateConfigMap: k8sObjectNameField().default('dns-records'),
    })
    .prefault({})
