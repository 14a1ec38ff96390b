// Test helpers for the LocalStack steps against the lab's API server: a tool context over a test config, a bootstrap
// without the wait for a running pod, and the wait for the lab kubelet's status writes to settle.
import { existsSync, readFileSync } from 'node:fs'
import { setTimeout as sleep } from 'node:timers/promises'
import { createReporter, openToolContext, runSteps, type RunResult, type ToolContext } from '@homelab/core'
import { repoRoot } from '@homelab/lab'
import { deploymentProgress, localstackBootstrapSteps } from '../src/index.js'
import { writeTestConfig } from './lab-config.js'

export type LabCtx = { kubeconfig: string; namespaces: string[] }

/** A tool context over a config with this LocalStack section, its output captured. */
export function labContext(ctx: LabCtx, localstack: Record<string, unknown>, plan = false): { tool: ToolContext; output: () => string } {
  let text = ''
  const reporter = createReporter({ json: false, out: { write: (s: string) => void (text += s) } })
  const config = writeTestConfig(localstack, { kubernetes: { kubeconfig: ctx.kubeconfig } })
  const tool = openToolContext({ flags: { config, plan }, reporter, env: {}, cwd: process.cwd(), signal: new AbortController().signal })
  return { tool, output: () => text }
}

/* The lab has no kubelet for these tests to rely on: the wait for an available Deployment is left out, and tested pure. */
export async function bootstrapWithoutWait(tool: ToolContext): Promise<RunResult> {
  const steps = localstackBootstrapSteps(tool).filter((s) => s.name !== 'localstack ready')
  return runSteps(steps, { title: 'localstack', plan: tool.plan, reporter: tool.reporter, concurrency: 4 })
}

const runners = `${repoRoot()}/packages/lab/src/controller/image-runners.ts`
const labPlaysLocalstack = existsSync(runners) && readFileSync(runners, 'utf8').includes('localstack-double')

/*
 * Where the lab kubelet runs the pod, it writes the Deployment's status while the pod starts; core's apply compares
 * whole objects, status included, so a status write between its read and its dry-run reads as drift. Wait for the
 * rollout to settle, as a second bootstrap by a person would.
 */
export async function settled(tool: ToolContext): Promise<void> {
  if (!labPlaysLocalstack) return
  const ref = { apiVersion: 'apps/v1', kind: 'Deployment', namespace: tool.config.localstack.namespace, name: 'localstack' }
  for (let i = 0; i < 60 && !deploymentProgress(await tool.kube().get(ref)).done; i++) await sleep(500)
  await sleep(500)
}

/** A namespace of its own for one test, remembered for the suite's cleanup. */
export function testNamespace(ctx: LabCtx, label: string): string {
  const name = `localstack-${label}-${Date.now().toString(36)}`
  ctx.namespaces.push(name)
  return name
}
