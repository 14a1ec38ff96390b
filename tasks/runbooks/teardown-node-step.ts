import { parseDocument } from 'yaml'
import { waitFor, type HomelabConfig, type KubeClient, type SshSession, type Step, type StepContext } from '@homelab/core'
import { clearRestartPending, detectK3sUnit, markRestartPending, readRegistryHostRecord, readyCondition, registryHostEdited, resolveNodeName, restartMarkerPath, retiredRegistryHosts, waitForReadyAfterRestart, type TrustNode } from '@homelab/node-trust'
import { removeRegistryTrust } from './remove-registry-trust.js'

/** `restart` `due`: node-trust's (or an earlier teardown's) restart never finished, so K3s may run an old config. */
export type NodeCleanup = { op: 'write'; path: string; data: string } | { op: 'remove'; path: string } | { op: 'restart'; due: boolean }

/** `recorded`: the registry hosts node-trust recorded writing to nodes (none when it kept no record). */
type NodeState = { yaml: string | undefined; ca: boolean; restartPending: boolean; recorded?: readonly string[] | undefined }

/**
 * Pure. What teardown does on one node: our registries.yaml entries out (others kept), our CA file gone, K3s restarted
 * if the file changed or a restart is still due (the marker node-trust keeps, removed once K3s is back).
 */
export function planNodeCleanup(state: NodeState, config: HomelabConfig, host: string): NodeCleanup[] {
  const { registriesYamlPath: path, caPath } = config.nodeTrust
  const changes: NodeCleanup[] = []
  if (state.yaml !== undefined) {
    const registryHost = config.registry.hosts.registry
    const left = removeRegistryTrust(state.yaml, registryHost, { host, path }, { hosts: retiredRegistryHosts(state.recorded, registryHost), caPath })
    if (left === undefined) changes.push({ op: 'remove', path })
    else if (left !== state.yaml) changes.push({ op: 'write', path, data: left })
  }
  if (state.ca) changes.push({ op: 'remove', path: caPath })
  const yamlChanged = changes.some((c) => c.op !== 'restart' && c.path === path)
  if (yamlChanged || state.restartPending) changes.push({ op: 'restart', due: !yamlChanged })
  return changes
}

/** A host node-trust wrote earlier whose entries someone edited stays on the node: say so, it holds a registry login. */
function warnEditedEarlierHosts(state: NodeState, config: HomelabConfig, label: string, ctx: StepContext): void {
  const earlier = retiredRegistryHosts(state.recorded, config.registry.hosts.registry)
  if (state.yaml === undefined || earlier.length === 0) return
  const path = config.nodeTrust.registriesYamlPath
  const doc = parseDocument(state.yaml)
  // An unparseable file is refused, with its reason, by the plan itself.
  if (doc.errors.length > 0) return
  const root: unknown = doc.toJS()
  for (const host of earlier.filter((h) => registryHostEdited(root, h, config.nodeTrust.caPath))) {
    ctx.warn(`${label}: ${path} keeps the entries for ${host}, a registry host node-trust wrote earlier: they were edited by hand, so teardown leaves them (with the registry login they hold); remove them on the node when they are not needed`)
  }
}

/** One node; the caller chains them (`needs`), so K3s restarts one node at a time and a node that stays down stops the rest. */
export function teardownNodeStep(options: { node: TrustNode; session: () => Promise<SshSession>; kube: () => KubeClient; config: HomelabConfig; needs: readonly string[] }): Step<NodeState, NodeCleanup, null> {
  const { node, config } = options
  return {
    name: `node ${node.label}: remove the registry trust`,
    needs: options.needs,
    check: async (ctx) => {
      const session = await options.session()
      const paths = [config.nodeTrust.registriesYamlPath, config.nodeTrust.caPath, restartMarkerPath(config.nodeTrust.registriesYamlPath)]
      const [[yaml, ca, marker], recorded] = await Promise.all([Promise.all(paths.map((path) => session.readFile(path))), readRegistryHostRecord(options.kube(), config.kubernetes.namespace)])
      const state = { yaml: yaml?.toString('utf8'), ca: ca !== undefined, restartPending: marker !== undefined, recorded }
      warnEditedEarlierHosts(state, config, node.label, ctx)
      return state
    },
    desired: () => null,
    diff: (state) => planNodeCleanup(state, config, node.label),
    describe: (c) => ({ summary: c.op === 'restart' ? `restart K3s on ${node.label}${c.due ? ' (an earlier restart never finished)' : ''}` : `${c.op} ${c.path} on ${node.label}${c.op === 'write' ? ' (other registries kept)' : ''}` }),
    apply: async (changes, ctx) => {
      const session = await options.session()
      const restart = changes.some((c) => c.op === 'restart')
      const kube = options.kube()
      const nodeName = restart ? await resolveNodeName(kube, node) : undefined
      const before = nodeName ? readyCondition(await kube.get({ apiVersion: 'v1', kind: 'Node', name: nodeName })) : undefined
      // As node-trust does: interrupted between the file changes and K3s coming back, the next teardown restarts again.
      if (nodeName) await markRestartPending(session, config.nodeTrust.registriesYamlPath)
      for (const c of changes) {
        if (c.op === 'write') await session.writeFileAtomic(c.path, c.data, { mode: 0o600, backup: { keep: config.nodeTrust.backups } })
        if (c.op === 'remove') {
          const result = await session.exec(['rm', '-f', '--', c.path])
          if (result.code !== 0) throw new Error(`rm ${c.path} on ${node.label} exited ${result.code}: ${result.stderr.trim()}`)
        }
      }
      if (!nodeName) return
      const unit = await detectK3sUnit(session, node)
      // Type=notify with TimeoutStartSec=0: a blocking restart of a K3s that never gets ready never returns.
      const result = await session.exec(['systemctl', 'restart', '--no-block', unit])
      if (result.code !== 0) throw new Error(`systemctl restart --no-block ${unit} on ${node.label} exited ${result.code}: ${result.stderr.trim()}`)
      await waitForReadyAfterRestart(kube, { nodeName, before, timeoutMs: config.timeouts.nodeReady.milliseconds, signal: ctx.signal, progress: ctx.progress })
      await waitFor(async () => ({ done: (await session.exec(['k3s', 'crictl', 'version'])).code === 0, seen: 'not answering' }), { what: `containerd on ${node.label}`, timeoutMs: config.timeouts.nodeReady.milliseconds, intervalMs: 250, signal: ctx.signal })
      await clearRestartPending(session, node.label, config.nodeTrust.registriesYamlPath)
    },
  }
}
