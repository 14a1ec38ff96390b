import { describeRef, issuedSecretOf, issuedSecretStep, refOf, retryPolicyFromConfig, StepSkipped, type HomelabConfig, type IssuedSecret, type KubeObject, type Step, type ToolContext } from '@homelab/core'
import { configMapOwnership, dnsRecordsStep, piholeConnector } from '@homelab/dns'
import { renderLocalstackManifests } from '@homelab/localstack'
import { trustNodes } from '@homelab/node-trust'
import { renderRegistryObjects } from '@homelab/registry'
import { foreignObjectsIn, listOwnedObjects } from './owned-objects.js'
import { teardownNodeStep } from './teardown-node-step.js'

export type TeardownOptions = {
  deleteData: boolean
  /** The run lock this teardown holds (`pipeline`): released at its end, or gone with the tool's namespace. */
  heldLock?: string
}

/**
 * Everything the tool made, and nothing else: DNS records by the ownership list (other records stay), our entries in
 * each node's registries.yaml (other content stays), and our objects (label + field manager), those holding the
 * ownership records last. PVCs, and the
 * namespaces holding them, stay unless --delete-data; a namespace with someone else's objects always stays.
 */
export async function teardownSteps(ctx: ToolContext, options: TeardownOptions): Promise<Step<any, any, any>[]> {
  const kube = ctx.kube()
  const dns = dnsSteps(ctx)
  const nodes = nodeSteps(ctx)
  const held = options.heldLock === undefined ? undefined : `run-lock-${options.heldLock}`
  const owned = (await listOwnedObjects(kube, ctx.config)).filter((o) => !(o.kind === 'ConfigMap' && o.metadata.name === held && o.metadata.namespace === ctx.config.kubernetes.namespace))
  const namespaced = owned.filter((o) => o.kind !== 'Namespace' && o.kind !== 'ClusterIssuer')
  const clusterIssuers = owned.filter((o) => o.kind === 'ClusterIssuer')
  const namespaces = owned.filter((o) => o.kind === 'Namespace')
  const firstStages = [...dns, ...nodes].map((s) => s.name)
  // Everything else still waits for the nodes to be done, however they ended: restarting K3s on a server node takes
  // the API server down for a while, and a delete sent meanwhile would fail.
  const nodesDone = { after: nodes.map((s) => s.name) }
  const holdsRecords = (o: KubeObject) => holdsTeardownRecords(o, ctx.config)
  const objectSteps = namespaced.map((o) =>
    o.kind === 'PersistentVolumeClaim' && !options.deleteData ? keptStep(o, 'data is kept; --delete-data removes it') : deleteStep(ctx, o, holdsRecords(o) ? { needs: firstStages } : nodesDone))
  // A kept PVC's step is skipped on purpose; what comes after must not wait for it (a skipped need skips the step).
  const deletedSteps = objectSteps.filter((s) => !s.name.startsWith('keep '))
  const deleted = deletedSteps.map((s) => s.name)
  const deletedElsewhere = namespaced.filter((o, i) => !holdsRecords(o) && deletedSteps.includes(objectSteps[i]!)).map((o) => `delete ${describeRef(refOf(o))}`)
  // cert-manager keeps a Certificate's Secret when the Certificate goes; the one it issued for ours goes with it. The
  // config's own Certificates count too: a teardown stopped after the Certificates went would otherwise leave their
  // Secrets (the root CA's private key among them) for good, with nothing left to find them by.
  const issued = uniqueBySecret([...namespaced.flatMap((o) => issuedSecretOf(o, 'teardown')), ...configuredIssuedSecrets(ctx.config)])
  const issuedSecretSteps = issued.map((i) => issuedSecretStep(kube, i, { after: deleted }))
  const issuerSteps = clusterIssuers.map((o) => deleteStep(ctx, o, { ...nodesDone, needs: deletedElsewhere }))
  const issuerNames = issuerSteps.map((s) => s.name)
  const namespaceSteps = namespaces.map((o) => namespaceStep(ctx, o, options, holdsRecords(o) ? { needs: [...firstStages, ...deleted, ...issuerNames] } : { ...nodesDone, needs: [...deletedElsewhere, ...issuerNames] }))
  return [...dns, ...nodes, ...objectSteps, ...issuedSecretSteps, ...issuerSteps, ...namespaceSteps]
}

/**
 * Pure. Whether an object goes only after the DNS records and node entries are out: the tool's namespace and what is in
 * it, where the DNS ownership list and node-trust's record of registry hosts live. Gone early, a Pi-hole or node that
 * was down would keep records and entries that nothing names any more. Everything else goes whatever those steps did:
 * a Pi-hole that is down stops the DNS part of a teardown, not the rest, and the next teardown finds its records by
 * the list that was kept.
 */
export function holdsTeardownRecords(object: KubeObject, config: HomelabConfig): boolean {
  const namespace = config.kubernetes.namespace
  return object.kind === 'Namespace' ? object.metadata.name === namespace : object.metadata.namespace === namespace
}

/** The Secrets cert-manager issues for the Certificates this config renders, the retired ones included. */
function configuredIssuedSecrets(config: HomelabConfig): IssuedSecret[] {
  const registry = renderRegistryObjects(config)
  const certificates = [registry.certificate, registry.ui?.certificate, registry.caChain?.rootCertificate, renderLocalstackManifests(config).certificate]
  return [...certificates.flatMap((c) => (c ? issuedSecretOf(c, 'teardown') : [])), ...registry.retiredIssuedSecrets.map((i) => ({ ...i, because: 'teardown' }))]
}

/** One step per Secret: the first claim on it (the live Certificate's, listed first) wins. */
function uniqueBySecret(issued: IssuedSecret[]): IssuedSecret[] {
  const seen = new Set<string>()
  return issued.filter((i) => {
    const key = describeRef(i.secret)
    if (seen.has(key)) return false
    seen.add(key)
    return true
  })
}

function dnsSteps(ctx: ToolContext): Step<any, any, any>[] {
  const ownership = configMapOwnership(ctx.kube(), { namespace: ctx.config.kubernetes.namespace, name: ctx.config.dns.stateConfigMap })
  const timeoutMs = ctx.config.timeouts.http.milliseconds
  const retries = retryPolicyFromConfig(ctx.config.retries)
  // Wanting nothing and pruning removes exactly the records the ownership list names; foreign records are never touched.
  return ctx.config.dns.piholes.map((pihole, index) =>
    dnsRecordsStep({ pihole: piholeConnector({ pihole, index, timeoutMs, retries, signal: ctx.signal, shared: ctx.shared }), ownership, wanted: () => [], adopt: false, prune: true }))
}

function nodeSteps(ctx: ToolContext): Step<any, any, any>[] {
  const steps: Step<any, any, any>[] = []
  for (const node of trustNodes(ctx.config, ctx.acceptNewHostKeys)) {
    const previous = steps.at(-1)
    steps.push(teardownNodeStep({ node, session: () => ctx.ssh.session(node.target), kube: () => ctx.kube(), config: ctx.config, needs: previous ? [previous.name] : [] }))
  }
  return steps
}

type Order = { needs?: readonly string[]; after?: readonly string[] }

function deleteStep(ctx: ToolContext, object: KubeObject, order: Order): Step<boolean, 'delete'> {
  const ref = refOf(object)
  return {
    name: `delete ${describeRef(ref)}`,
    ...order,
    check: async () => (await ctx.kube().get(ref)) !== undefined,
    desired: () => false,
    diff: (present) => (present ? ['delete'] : []),
    describe: () => ({ summary: `delete ${describeRef(ref)}` }),
    apply: async () => void (await ctx.kube().delete(ref)),
  }
}

function keptStep(object: KubeObject, reason: string): Step<null, never> {
  return { name: `keep ${describeRef(refOf(object))}`, check: async () => Promise.reject(new StepSkipped(reason)), desired: () => null, diff: () => [] }
}

function namespaceStep(ctx: ToolContext, object: KubeObject, options: TeardownOptions, order: Order): Step<boolean, 'delete'> {
  const inner = deleteStep(ctx, object, order)
  const name = object.metadata.name
  return {
    ...inner,
    check: async (stepCtx) => {
      if (!options.deleteData) {
        const claims = await ctx.kube().list('v1', 'PersistentVolumeClaim', { namespace: name })
        if (claims.length > 0) throw new StepSkipped(`holds ${claims.length} PersistentVolumeClaim(s) that are kept; --delete-data removes them and the namespace`)
      }
      // Deleting a namespace deletes all in it: under --plan our objects are still there, so only foreign ones count.
      const foreign = await foreignObjectsIn(ctx.kube(), name)
      if (foreign.length > 0) throw new StepSkipped(`holds objects this tool did not make (${foreign.slice(0, 3).join(', ')}${foreign.length > 3 ? ', …' : ''})`)
      return inner.check(stepCtx)
    },
  }
}
