import { isAbsolute } from 'node:path'
import { z } from 'zod'
import { checkedString, dnsNameProblem, hostField } from './config-fields.js'
import { existingFileField, laterFileField, resolveSecretPair, secretPair, type ConfigFileContext } from './config-file-fields.js'
import { expectedGot } from './config-issue-text.js'

const nodePath = (expected: string) => checkedString(expected, (v) => (isAbsolute(v) ? undefined : expectedGot(`${expected} (absolute, on the node)`, v)))

/** `agent: true` means the caller's SSH_AUTH_SOCK; a string is a socket path. The output is the socket or nothing. */
const agentField = (file: ConfigFileContext) =>
  z.union([z.boolean(), z.string()], { error: (issue) => expectedGot('true, false or an ssh-agent socket path', issue.input) }).transform((agent, ctx) => {
    if (agent === false) return undefined
    if (typeof agent === 'string') return agent
    if (file.sshAuthSock) return file.sshAuthSock
    ctx.addIssue({ code: 'custom', message: 'expected SSH_AUTH_SOCK to be set when agent is true, got nothing; start ssh-agent or give the socket path' })
    return z.NEVER
  })

const node = (file: ConfigFileContext) =>
  z
    .strictObject({
      // The Kubernetes node name, used to wait for Ready after a restart; found by address when absent.
      name: checkedString('a node name', (v) => dnsNameProblem(v, 'a Kubernetes node name')).optional(),
      host: hostField(),
      port: z.number({ error: (issue) => (issue.code === 'invalid_type' ? expectedGot('a port number', issue.input) : undefined) }).int().min(1).max(65535).default(22),
      user: z.string().min(1).default('root'),
      keyFile: existingFileField(file).optional(),
      agent: agentField(file).optional(),
      sudo: z.boolean().optional(),
      ...secretPair('sudoPassword'),
      role: z.enum(['server', 'agent', 'auto']).default('auto'),
    })
    .transform(resolveSecretPair(file, 'sudoPassword'))
    // Root needs no sudo; anyone else cannot write /etc/rancher without it.
    .transform(({ sudo, ...rest }) => ({ ...rest, sudo: sudo ?? rest.user !== 'root' }))

/** Two entries for one machine would write and restart it twice, racing; names must be unique for the Ready wait. */
function rejectDuplicates(list: { name?: string | undefined; host: string; port: number }[], ctx: z.RefinementCtx) {
  list.forEach((entry, index) => {
    const sameHost = list.findIndex((other) => other.host === entry.host && other.port === entry.port)
    if (sameHost < index) ctx.addIssue({ code: 'custom', path: [index, 'host'], message: `duplicate of nodes[${sameHost}].host (${entry.host}:${entry.port})` })
    const sameName = entry.name === undefined ? index : list.findIndex((other) => other.name === entry.name)
    if (sameName < index) ctx.addIssue({ code: 'custom', path: [index, 'name'], message: `duplicate of nodes[${sameName}].name (${JSON.stringify(entry.name)})` })
  })
}

export const nodesSchema = (file: ConfigFileContext) => z.array(node(file)).superRefine(rejectDuplicates).default([])

export const nodeTrustSchema = (file: ConfigFileContext) =>
  z
    .strictObject({
      registriesYamlPath: nodePath('a path on the node').default('/etc/rancher/k3s/registries.yaml'),
      caPath: nodePath('a path on the node').default('/etc/rancher/k3s/registry-ca.crt'),
      backups: z.number({ error: (issue) => (issue.code === 'invalid_type' ? expectedGot('a whole number of backups to keep', issue.input) : undefined) }).int().min(0).max(100).default(5),
      // Pulling docker.io through the registry needs the registry to be a pull-through cache; off unless asked.
      dockerHubMirror: z.boolean().default(false),
      knownHostsFile: laterFileField(file).prefault('~/.ssh/known_hosts'),
      // Trust on first use only when asked: a strict default is what stops a spoofed node.
      acceptNewHostKeys: z.boolean().default(false),
    })
    .prefault({})
