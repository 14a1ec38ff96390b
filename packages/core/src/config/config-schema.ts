import { z } from 'zod'
import { dnsNameField, durationField, ipField, k8sNameField, k8sObjectNameField } from './config-fields.js'
import { existingFileField, type ConfigFileContext } from './config-file-fields.js'
import { registrySchema } from './registry-config-schema.js'
import { localstackSchema } from './localstack-config-schema.js'
import { dnsSchema } from './dns-config-schema.js'
import { nodesSchema, nodeTrustSchema } from './nodes-config-schema.js'
import { expectedGot } from './config-issue-text.js'

// zod compiles each object schema's parser with `new Function` on its first use. A task parses its config once or
// twice, so the compile costs more than it saves (the first parse of the example config: 35 ms, 23 ms without; a
// second: 30-60 ms, 15 ms without), and code made by eval is not in V8's code cache of the task's bundle.
z.config({ jitless: true })

const ingress = z
  .strictObject({
    // Absent: read from the Traefik Service's status.loadBalancer, so the config cannot drift from the cluster.
    ip: ipField().optional(),
    traefikService: z.strictObject({ namespace: k8sNameField().default('kube-system'), name: k8sObjectNameField().default('traefik') }).prefault({}),
    entryPoint: z.string().min(1).default('websecure'),
  })
  .prefault({})

const kubernetes = (file: ConfigFileContext) =>
  z
    .strictObject({
      kubeconfig: existingFileField(file).optional(),
      context: z.string().min(1).optional(),
      fieldManager: z.string().min(1).default('homelab-devtools'),
      // Where the tool keeps its own state (DNS ownership, generated credentials' bookkeeping, the bootstrap lock).
      namespace: k8sNameField().default('homelab-devtools'),
    })
    .prefault({})

const issuerRef = z.strictObject({ name: k8sObjectNameField(), kind: z.enum(['ClusterIssuer', 'Issuer']).default('ClusterIssuer') })

// Public ACME cannot issue for `.local`, so the default is a private CA that cert-manager runs in the cluster.
const tls = z
  .strictObject({
    mode: z.enum(['ca', 'acme']).default('ca'),
    issuer: issuerRef.optional(),
    ca: z
      .strictObject({
        namespace: k8sNameField().default('cert-manager'),
        selfSignedIssuer: k8sObjectNameField().default('homelab-selfsigned'),
        certificate: k8sObjectNameField().default('homelab-root-ca'),
        secretName: k8sObjectNameField().default('homelab-root-ca'),
        issuer: k8sObjectNameField().default('homelab-ca'),
        commonName: z.string().min(1).default('homelab root CA'),
      })
      .prefault({}),
  })
  .superRefine((value, ctx) => {
    if (value.mode === 'acme' && !value.issuer) {
      ctx.addIssue({ code: 'custom', path: ['issuer'], message: expectedGot('{name, kind} of an existing issuer when mode is acme', undefined) })
    }
    if (value.mode === 'ca' && value.issuer) {
      ctx.addIssue({ code: 'custom', path: ['issuer'], message: 'only used with mode: acme; mode ca creates its own issuer, named by tls.ca.issuer' })
    }
  })
  // Consumers always get the issuer to reference, whichever mode made it.
  .transform(({ issuer, ...rest }) => ({ ...rest, issuer: issuer ?? { name: rest.ca.issuer, kind: 'ClusterIssuer' as const } }))
  .prefault({})

const timeouts = z
  .strictObject({
    http: durationField().prefault('30s'),
    kubernetes: durationField().prefault('30s'),
    ssh: durationField().prefault('20s'),
    rollout: durationField().prefault('5m'),
    certificate: durationField().prefault('3m'),
    nodeReady: durationField().prefault('5m'),
    localstackReady: durationField().prefault('5m'),
  })
  .prefault({})

const retries = z
  .strictObject({
    attempts: z.number().int().min(1).max(20).default(3),
    baseDelay: durationField().prefault('250ms'),
    maxDelay: durationField().prefault('5s'),
  })
  .prefault({})

const configObject = (file: ConfigFileContext) =>
  z.strictObject({
    domain: dnsNameField('a DNS domain such as homelab.local').default('homelab.local'),
    ingress,
    kubernetes: kubernetes(file),
    tls,
    registry: registrySchema(file),
    localstack: localstackSchema(file),
    dns: dnsSchema(file),
    nodes: nodesSchema(file),
    nodeTrust: nodeTrustSchema(file),
    timeouts,
    retries,
  })

/** A host without a dot lives under `domain`; one with dots is already a full name. */
const fullName = (host: string, domain: string) => (host.includes('.') ? host : `${host}.${domain}`)

/** The schema of `homelab.yaml`. `file` says where relative paths point; files named by `*File` keys are read while parsing. */
export function buildConfigSchema(file: ConfigFileContext) {
  return configObject(file).transform((config) => ({
    ...config,
    registry: { ...config.registry, hosts: { registry: fullName(config.registry.hosts.registry, config.domain), ui: fullName(config.registry.hosts.ui, config.domain) } },
    localstack: { ...config.localstack, host: fullName(config.localstack.host, config.domain) },
    dns: { ...config.dns, ingressHost: fullName(config.dns.ingressHost, config.domain) },
  }))
}

/** The validated config: typed values (Size, Cpu, Duration, Secret), full host names, absolute local paths. */
export type HomelabConfig = z.output<ReturnType<typeof buildConfigSchema>>
/** What `homelab.yaml` may contain, before defaults and parsing. */
export type HomelabConfigInput = z.input<ReturnType<typeof buildConfigSchema>>
