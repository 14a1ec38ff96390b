import { withManagedByLabel, type KubeClient, type ObjectRef, type Reporter, type RunResult } from '@homelab/core'

/**
 * What the last full verify found, kept only while it found something wrong: a ConfigMap in the tool's namespace that
 * a failed full verify writes and a passing one deletes. A run that changes nothing verifies quickly, which cannot
 * see what only a full verify does (a pull on a node, a push through the registry): without this record, the run
 * after a failed full verify reported all well. Nothing is written while all is well, so a no-op run moves nothing.
 */
export type FullVerifyFailure = { at: string; steps: string[] }

const recordRef = (namespace: string): ObjectRef => ({ apiVersion: 'v1', kind: 'ConfigMap', namespace, name: 'full-verify-failed' })

/**
 * The record of a failed full verify, if the last one failed. A record that cannot be read counts as none for a
 * verify (it verifies quickly, with a warning); `strict` (status, which must not call unknown converged) throws.
 */
export async function lastFullVerifyFailure(kube: KubeClient, namespace: string, reporter: Reporter, options: { strict?: boolean } = {}): Promise<FullVerifyFailure | undefined> {
  try {
    const data = (await kube.get(recordRef(namespace)))?.['data'] as Record<string, string> | undefined
    if (data === undefined) return undefined
    return { at: data['at'] ?? 'an unknown time', steps: (data['steps'] ?? '').split('\n').filter(Boolean) }
  } catch (error) {
    if (options.strict) throw error
    reporter.warn('verify', `could not read whether the last full verify failed (${briefly(error)}); verifying as if it passed`)
    return undefined
  }
}

/** The error's own message, with its hint: a warning, not a failure, so the HTTP exchange under it is left out. */
const briefly = (error: unknown) => (error instanceof Error ? error.message : String(error))

const failedSteps = (results: readonly RunResult[]) => results.flatMap((run) => run.results.filter((r) => r.status === 'failed').map((r) => `${run.title}: ${r.step}`))

/**
 * After a full verify: record its failures, or drop the record once it passes. Never fails the verify itself; a
 * record that cannot be written is a warning naming what the next no-op run may then miss.
 */
export async function recordFullVerify(kube: KubeClient, namespace: string, results: readonly RunResult[], reporter: Reporter, now = new Date()): Promise<void> {
  const steps = failedSteps(results)
  const ref = recordRef(namespace)
  try {
    if (steps.length === 0) {
      await kube.delete(ref)
      return
    }
    // The same failures as on record: kept as they are, with the time they were first seen.
    const recorded = (await kube.get(ref))?.['data'] as Record<string, string> | undefined
    if (recorded?.['steps'] === steps.join('\n')) return
    const record = { apiVersion: 'v1', kind: 'ConfigMap', metadata: { name: ref.name, namespace }, data: { at: now.toISOString(), steps: steps.join('\n') } }
    await kube.apply(withManagedByLabel(record), { dryRun: false, force: true })
  } catch (error) {
    const what = steps.length === 0 ? 'clear the record of an earlier failed full verify' : 'record that this full verify failed'
    reporter.warn('verify', `could not ${what} in ConfigMap ${namespace}/${ref.name} (${briefly(error)}); a later run that changes nothing may verify only quickly`)
  }
}
