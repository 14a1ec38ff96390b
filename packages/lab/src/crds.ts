import { readdirSync, readFileSync } from 'node:fs'
import { join } from 'node:path'
import { setTimeout as sleep } from 'node:timers/promises'
import { LabTimeoutError } from './errors/lab-error.js'
import { ApiextensionsV1Api, KubernetesObjectApi, loadYaml, PatchStrategy, type KubeConfig, type V1CustomResourceDefinition } from '@kubernetes/client-node'
import { parseAllDocuments } from 'yaml'
import { kubeApiFailure } from './kube-api-failure.js'
import { crdFixturesDir, upstreamFixture } from './lab-paths.js'

export const FIELD_MANAGER = 'homelab-devtools'

export type CrdState = { name: string; established: boolean }

export type ApplyCrdsOptions = {
  kubeConfig: KubeConfig
  /** Default: `shared/fixtures/crds` next to the repo. */
  dir?: string
  timeoutMs?: number
  onProgress?: (message: string) => void
}

/** Schema features newer than the 1.20 API server; it rejects CRDs that use them. */
function isTooNew(key: string, value: unknown): boolean {
  if (key === 'x-kubernetes-validations' || key === 'selectableFields' || key === 'x-kubernetes-list-map-keys') return true
  if (key === 'x-kubernetes-list-type') return value === 'map'
  return key === 'default' && value === ''
}

/** Pure: a copy of `doc` without the keys the 1.20 API server rejects, at any depth. */
export function downlevelCrd<T>(doc: T): T {
  if (Array.isArray(doc)) return doc.map((item) => downlevelCrd(item)) as T
  if (typeof doc !== 'object' || doc === null) return doc
  const entries = Object.entries(doc).filter(([key, value]) => !isTooNew(key, value))
  return Object.fromEntries(entries.map(([key, value]) => [key, downlevelCrd(value)])) as T
}

/**
 * Every CRD in `dir` (`*.yaml`, sorted by file name), down-levelled for the lab's API server, in client-node's model
 * form: its serializer writes built-in kinds from model keys (`xKubernetesIntOrString`, `_enum`, `_default`) and
 * silently drops the wire keys a plain YAML parse gives, so a CRD must go through `loadYaml` before `patch`.
 */
export function loadLabCrds(dir: string = crdFixturesDir()): V1CustomResourceDefinition[] {
  const files = readdirSync(upstreamFixture(dir, 'the upstream CRDs')).filter((name) => name.endsWith('.yaml')).sort()
  return files.flatMap((file) =>
    parseAllDocuments(readFileSync(join(dir, file), 'utf8'))
      .map((doc) => doc.toJS() as { kind?: string } | null)
      .filter((doc) => doc?.kind === 'CustomResourceDefinition')
      .map((doc) => loadYaml<V1CustomResourceDefinition>(JSON.stringify(downlevelCrd(doc)))),
  )
}

const isEstablished = (crd: V1CustomResourceDefinition) =>
  crd.status?.conditions?.some((c) => c.type === 'Established' && c.status === 'True') ?? false

/** Server-side applies every CRD (re-applying identical ones changes nothing) and waits until each is Established. */
export async function applyCrds(options: ApplyCrdsOptions): Promise<string[]> {
  const server = options.kubeConfig.getCurrentCluster()?.server ?? 'the API server'
  const objects = KubernetesObjectApi.makeApiClient(options.kubeConfig)
  const crds = loadLabCrds(options.dir)
  for (const crd of crds) {
    const name = crd.metadata?.name ?? '?'
    await objects.patch(crd, undefined, undefined, FIELD_MANAGER, true, PatchStrategy.ServerSideApply)
      .catch((error: unknown) => { throw kubeApiFailure({ action: 'apply', object: `CustomResourceDefinition ${name}`, server }, error) })
  }
  const names = crds.map((crd) => crd.metadata?.name ?? '?')
  await waitForEstablished(options.kubeConfig, names, options.timeoutMs ?? 30_000)
  options.onProgress?.(`${names.length} CRDs established`)
  return names
}

async function waitForEstablished(kubeConfig: KubeConfig, names: string[], timeoutMs: number): Promise<void> {
  const deadline = Date.now() + timeoutMs
  let pending = names
  while (pending.length > 0) {
    const states = new Map((await listCrds(kubeConfig)).map((crd) => [crd.name, crd.established]))
    pending = names.filter((name) => states.get(name) !== true)
    if (pending.length === 0) return
    if (Date.now() > deadline) {
      throw new LabTimeoutError(`CRDs not Established after ${timeoutMs / 1000}s: ${pending.join(', ')}`, {
        hint: 'check the kube-apiserver log in the lab state folder (`pnpm lab status` shows it)',
      })
    }
    await sleep(250)
  }
}

/** The CRDs the server has, sorted by name, and whether each is Established. */
export async function listCrds(kubeConfig: KubeConfig): Promise<CrdState[]> {
  const server = kubeConfig.getCurrentCluster()?.server ?? 'the API server'
  const list = await kubeConfig.makeApiClient(ApiextensionsV1Api).listCustomResourceDefinition()
    .catch((error: unknown) => { throw kubeApiFailure({ action: 'list', object: 'CustomResourceDefinitions', server }, error) })
  return list.items
    .map((crd) => ({ name: crd.metadata?.name ?? '?', established: isEstablished(crd) }))
    .sort((a, b) => a.name.localeCompare(b.name))
}
