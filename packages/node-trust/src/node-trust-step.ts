import { waitFor, type HomelabConfig, type KubeClient, type SshSession, type Step, type StepContext } from '@homelab/core'
import { retiredHostsLeft, type MergeLimits } from './merge-registries-yaml.js'
import { NodeRolloutError } from './errors/node-rollout-error.js'
import { detectK3sUnit, newestBackup, type NodeFiles } from './node-files.js'
import { readyCondition, resolveNodeName, waitForReadyAfterRestart } from './node-readiness.js'
import { clearRestartPending, markRestartPending, restartMarkerPath } from './restart-marker.js'
import { describeNodeTrustChange, planNodeTrust, type FileWrite, type K3sRestart, type NodeTrustChange } from './plan-node-trust.js'
import type { TrustMaterial } from './registry-trust-material.js'
import { RECORD_HOST_STEP } from './registry-host-record.js'
import type { RestartRollout } from './restart-rollout.js'
import type { K3sUnit, TrustNode } from './trust-nodes.js'

export const TRUST_MATERIAL_STEP = 'registry credentials and CA'

export type NodeTrustState = { files: NodeFiles; unit: K3sUnit | undefined }

export type NodeTrustStepDeps = {
  node: TrustNode
  /** The node's place in `nodes[]`: the rollout restarts in that order. */
  index: number
  session: () => Promise<SshSession>
  /** The node's files, read ahead for every node at once (see the component). */
  files: Promise<NodeFiles>
  material: () => Promise<TrustMaterial>
  rollout: RestartRollout
  kube: () => KubeClient
  config: HomelabConfig
  limits?: MergeLimits
}

const planOptions = (deps: NodeTrustStepDeps, unit: K3sUnit | undefined) => ({
  host: deps.node.label,
  registriesYamlPath: deps.config.nodeTrust.registriesYamlPath,
  caPath: deps.config.nodeTrust.caPath,
  unit,
  ...(deps.limits ? { limits: deps.limits } : {}),
})

/** One node: read its files, merge ours in, write what differs, then (one node at a time) restart K3s and wait for Ready. */
export function nodeTrustStep(deps: NodeTrustStepDeps): Step<NodeTrustState, NodeTrustChange, TrustMaterial> {
  return {
    name: `node-trust ${deps.node.label}`,
    // The host is recorded before it is written anywhere: a run stopped after the first node still knows it is ours.
    needs: [TRUST_MATERIAL_STEP, RECORD_HOST_STEP],
    check: async (ctx) => {
      try {
        const files = await deps.files
        const material = await deps.material()
        // The unit only matters when a restart is due; asking costs a round trip per node on every no-op run.
        const due = planNodeTrust(files, material, planOptions(deps, deps.node.unit)).length > 0
        warnEditedRetiredHosts(deps, files, material, ctx)
        // Nodes after this one must not wait for a turn it will never take.
        if (!due || ctx.plan) deps.rollout.pass(deps.index)
        return { files, unit: due ? await detectK3sUnit(await deps.session(), deps.node) : deps.node.unit }
      } catch (error) {
        deps.rollout.pass(deps.index)
        throw error
      }
    },
    desired: () => deps.material(),
    diff: (current, material) => planNodeTrust(current.files, material, planOptions(deps, current.unit)),
    describe: (change) => describeNodeTrustChange(change, deps.node.label),
    apply: (changes, ctx) => deps.rollout.turn(deps.index, ctx.signal, () => writeAndRestart(deps, changes, ctx)),
  }
}

function warnEditedRetiredHosts(deps: NodeTrustStepDeps, files: NodeFiles, material: TrustMaterial, ctx: StepContext): void {
  const path = deps.config.nodeTrust.registriesYamlPath
  for (const host of retiredHostsLeft(files.registriesYaml, material.trust, { host: deps.node.label, path }, deps.limits)) {
    ctx.warn(`${path} still has entries for ${host}, a registry host node-trust wrote before and no longer uses; they were edited by hand, so they stay (with the registry login they hold): remove them on the node when they are not needed`)
  }
}

async function writeAndRestart(deps: NodeTrustStepDeps, changes: NodeTrustChange[], ctx: StepContext): Promise<void> {
  const session = await deps.session()
  const kube = deps.kube()
  const yamlPath = deps.config.nodeTrust.registriesYamlPath
  const restart = changes.find((c): c is K3sRestart => c.op === 'restart')
  // Before any write: a node we could not wait for must not get a new file it would only read on some later restart.
  const nodeName = restart ? await resolveNodeName(kube, deps.node) : undefined
  // Marked before the first write: whatever stops us after it (a failed restart, a dropped connection, Ctrl-C, a
  // kill), the next run reads the marker and restarts again instead of finding the files equal and doing nothing.
  if (restart && !restart.pending) await markRestartPending(session, yamlPath)
  for (const write of changes.filter((c): c is FileWrite => c.op === 'write')) {
    await session.writeFileAtomic(write.path, write.data, { mode: write.mode, backup: { keep: deps.config.nodeTrust.backups } })
  }
  if (!restart || !nodeName) return
  // Read just before the restart: a heartbeat the old kubelet posts after this must not pass for the new one's.
  const before = readyCondition(await kube.get({ apiVersion: 'v1', kind: 'Node', name: nodeName }))
  ctx.progress(`restarting ${restart.unit} on ${deps.node.label}`)
  // Ctrl-C stops neither the restart nor the wait for the node: stopping here would leave a node restarting unseen.
  const interrupted = () => ctx.progress(`interrupted: waiting for ${deps.node.label} to come back from its restart before stopping (Ctrl-C again to leave now)`)
  if (ctx.signal.aborted) interrupted()
  else ctx.signal.addEventListener('abort', interrupted, { once: true })
  try {
    // K3s units are Type=notify with TimeoutStartSec=0: a blocking restart of a K3s that never gets ready never
    // returns. --no-block only queues the job, so the Ready wait below, with its nodeReady timeout, is what waits.
    const result = await session.exec(['systemctl', 'restart', '--no-block', restart.unit])
    if (result.code !== 0) throw new Error(`systemctl restart --no-block ${restart.unit} exited ${result.code}: ${result.stderr.trim() || 'no message'}`)
    const timeoutMs = deps.config.timeouts.nodeReady.milliseconds
    const started = Date.now()
    await waitForReadyAfterRestart(kube, { nodeName, before, timeoutMs, progress: ctx.progress })
    await waitForContainerd(session, deps.node.label, timeoutMs - (Date.now() - started))
  } catch (cause) {
    const hadFile = changes.some((c) => c.op === 'write' && c.path === yamlPath && c.before !== undefined)
    throw await rolloutStopped(deps, session, { unit: restart.unit, nodeName, cause, hadFile })
  } finally {
    ctx.signal.removeEventListener('abort', interrupted)
  }
  await clearRestartPending(session, deps.node.label, yamlPath)
}

/** The runtime answers CRI again (`k3s crictl version`), not only the kubelet's status. */
function waitForContainerd(session: SshSession, label: string, timeoutMs: number): Promise<void> {
  return waitFor(async () => {
    const result = await session.exec(['k3s', 'crictl', 'version'])
    return { done: result.code === 0, seen: result.code === 0 ? 'answering' : result.stderr.trim().split('\n').at(-1) ?? `exit ${result.code}` }
  }, { what: `containerd on ${label} answering CRI`, timeoutMs: Math.max(timeoutMs, 1000), intervalMs: 250 })
}

async function rolloutStopped(deps: NodeTrustStepDeps, session: SshSession, failed: { unit: K3sUnit; nodeName: string; cause: unknown; hadFile: boolean }): Promise<NodeRolloutError> {
  const path = deps.config.nodeTrust.registriesYamlPath
  const { host, user } = deps.node.target
  // Only a hint: if listing the folder fails too, the rollout error below is still the one to report.
  const backup = failed.hadFile ? await newestBackup(session, path).catch(() => undefined) : undefined
  const undo = backup ? `cp -p ${backup} ${path}` : `rm ${path}`
  const sudo = user === 'root' ? '' : 'sudo '
  return new NodeRolloutError(
    `${deps.node.label} (Node ${failed.nodeName}) did not come back after \`systemctl restart ${failed.unit}\`; the rollout stopped here and the nodes after it were not touched`,
    {
      node: deps.node.label,
      host,
      path,
      cause: failed.cause,
      hint: `to restore the previous file, on ${user}@${host} run \`${sudo}${undo} && ${sudo}systemctl restart ${failed.unit}\`${backup ? '' : ' (there was no previous file)'}, then look at \`journalctl -u ${failed.unit}\`; the restart stays due (${restartMarkerPath(path)}), so the next sync restarts this node again`,
    },
  )
}
