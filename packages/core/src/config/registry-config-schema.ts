import { z } from 'zod'
import { checkedString, dnsNameProblem, imageField, k8sNameField, k8sObjectNameField } from './config-fields.js'
import { resolveSecretPair, secretPair, type ConfigFileContext } from './config-file-fields.js'
import { resourcesSchema, storageSchema } from './resources-config-schema.js'
import { expectedGot } from './config-issue-text.js'

export const REGISTRY_IMAGE = 'registry:2.8.3'
export const REGISTRY_UI_IMAGE = 'joxit/docker-registry-ui:2.6.0'
/** The htpasswd lines' bcrypt cost unless registry.auth.bcryptCost says otherwise (packages/registry/src/htpasswd.ts says why). */
export const REGISTRY_BCRYPT_COST = 5

const bcryptCostIssue = (issue: { input?: unknown }) => expectedGot('a whole number from 4 to 12', issue.input)

const USER_NAME = 'a user name without ":" or spaces'

/** A host under `domain` (`registry`) or a full name (`registry.example.org`); the loader turns both into full names. */
export const serviceHostField = () =>
  checkedString('a host name', (v) => dnsNameProblem(v, 'a host label such as "registry" or a full DNS name'))

// htpasswd lines are `name:hash`, so a ':' in a name would split the line in the wrong place.
const userNameField = () =>
  checkedString(USER_NAME, (v) => (v.length > 0 && !/[:\s]/.test(v) ? undefined : expectedGot(USER_NAME, v)))

const registryUser = (file: ConfigFileContext) =>
  z.strictObject({ name: userNameField(), ...secretPair('password') }).transform(resolveSecretPair(file, 'password'))

const users = (file: ConfigFileContext) =>
  z
    .array(registryUser(file))
    .min(1, { error: 'expected at least one user (the registry refuses every login without one), got an empty list' })
    .superRefine((list, ctx) => {
      list.forEach((user, index) => {
        const first = list.findIndex((other) => other.name === user.name)
        if (first < index) ctx.addIssue({ code: 'custom', path: [index, 'name'], message: `duplicate of registry.users[${first}].name (${JSON.stringify(user.name)})` })
      })
    })
    .prefault([{ name: 'admin' }])

const ui = z
  .strictObject({
    enabled: z.boolean().default(true),
    // 2.x is the line that talks to Distribution 2.8 and 3; a floating tag would change under us.
    image: imageField('a pinned joxit/docker-registry-ui 2.x.y tag, e.g. joxit/docker-registry-ui:2.6.0', (tag) => /^2\.\d+\.\d+$/.test(tag)).default(REGISTRY_UI_IMAGE),
    title: z.string().default('Homelab registry'),
    // The seed wants read-only browsing; deleting also needs storage.delete, which the registry has on for GC.
    deleteImages: z.boolean().default(false),
    singleRegistry: z.boolean().default(true),
  })
  .prefault({})

/*
 * The Secrets the registry keeps in its namespace under fixed names (REGISTRY_NAMES in @homelab/registry, which core
 * cannot import): the shared http.secret, and the TLS Secrets cert-manager issues for the registry and UI Certificates.
 */
const FIXED_REGISTRY_SECRETS: Readonly<Record<string, string>> = {
  'registry-http-secret': "the registry's http.secret",
  'registry-tls': "the registry's TLS certificate",
  'registry-ui-tls': "the registry UI's TLS certificate",
}

// Two roles in one Secret: each apply strips the other's keys, so every run would regenerate the passwords.
function distinctAuthSecretNames(auth: { secretName: string; credentialsSecretName: string }, ctx: z.RefinementCtx): void {
  if (auth.credentialsSecretName === auth.secretName) {
    ctx.addIssue({ code: 'custom', path: ['credentialsSecretName'], message: `must differ from registry.auth.secretName (both are ${JSON.stringify(auth.secretName)})` })
  }
  for (const key of ['secretName', 'credentialsSecretName'] as const) {
    const fixed = FIXED_REGISTRY_SECRETS[auth[key]]
    if (fixed) ctx.addIssue({ code: 'custom', path: [key], message: `must differ from ${JSON.stringify(auth[key])}, the Secret that holds ${fixed}` })
  }
}

export const registrySchema = (file: ConfigFileContext) =>
  z
    .strictObject({
      namespace: k8sNameField().default('registry'),
      // 2.8 is what the config file layout, GC runbook and `--delete-untagged` warning are written for.
      image: imageField('a pinned registry 2.8.x tag, e.g. registry:2.8.3', (tag) => /^2\.8\.\d+$/.test(tag)).default(REGISTRY_IMAGE),
      hosts: z.strictObject({ registry: serviceHostField().default('registry'), ui: serviceHostField().default('registry-ui') }).prefault({}),
      storage: storageSchema({ size: '30Gi', storageClass: 'local-path' }),
      resources: resourcesSchema('registry.resources', { requests: { memory: '256Mi', cpu: '100m' }, limits: { memory: '512Mi', cpu: '500m' } }),
      users: users(file),
      auth: z
        .strictObject({
          secretName: k8sObjectNameField().default('registry-auth'),
          realm: z.string().min(1).default('Registry Realm'),
          // Passwords generated on the first run are kept here so the second run reuses them.
          credentialsSecretName: k8sObjectNameField().default('registry-credentials'),
          // The registry runs a bcrypt of the user's htpasswd line on every authenticated request, and each step up
          // doubles it: past 12, a pull of a few layers takes seconds.
          bcryptCost: z.number({ error: bcryptCostIssue }).int({ error: bcryptCostIssue }).min(4, { error: bcryptCostIssue }).max(12, { error: bcryptCostIssue }).default(REGISTRY_BCRYPT_COST),
        })
        .superRefine(distinctAuthSecretNames)
        .prefault({}),
      ui,
      metrics: z
        .strictObject({
          enabled: z.boolean().default(true),
          serviceMonitor: z.boolean().default(true),
          // Prometheus operators usually select ServiceMonitors by a label such as `release: kube-prometheus-stack`.
          serviceMonitorLabels: z.record(z.string(), z.string()).default({}),
        })
        .prefault({}),
      gc: z.strictObject({ deleteUntagged: z.boolean().default(false) }).prefault({}),
    })
    .prefault({})
