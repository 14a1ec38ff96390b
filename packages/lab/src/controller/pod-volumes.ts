import { randomBytes } from 'node:crypto'
import { existsSync, lstatSync, mkdirSync, readdirSync, readFileSync, readlinkSync, renameSync, rmSync, symlinkSync, writeFileSync } from 'node:fs'
import { dirname, join, normalize } from 'node:path'
import type { ClusterSnapshot } from './cluster-snapshot.js'
import { claimDir } from './controller-paths.js'
import { keyOf, type KeyToPath, type PodSpec, type Volume } from './kube-objects.js'

export type VolumeFile = { path: string; content: Buffer; mode: number }

/** A volume ready to bind-mount, or the reason the pod cannot start yet (the kubelet's ContainerCreating). */
export type PodVolume = { name: string; hostPath: string; readOnly: boolean; claim?: string }
export type PodVolumes = { volumes: Map<string, PodVolume>; waitingFor: string[] }

const DEFAULT_MODE = 0o644

/** Pure. The files a ConfigMap or Secret volume holds (items/key/path honoured), or why there are none yet. */
export function projectedFiles(data: Map<string, Buffer> | undefined, what: string, options: { items?: KeyToPath[]; optional?: boolean; defaultMode?: number }): VolumeFile[] | string {
  if (data === undefined) return options.optional ? [] : `${what} not found`
  const mode = options.defaultMode ?? DEFAULT_MODE
  if (!options.items) return [...data.entries()].sort(([a], [b]) => a.localeCompare(b)).map(([path, content]) => ({ path, content, mode }))
  const files: VolumeFile[] = []
  for (const item of options.items) {
    const content = data.get(item.key)
    if (content === undefined) {
      if (options.optional) continue
      return `${what} has no key ${item.key}`
    }
    const path = normalize(item.path)
    if (path.startsWith('..') || path.startsWith('/')) return `${what}: item path ${item.path} must be relative, without ..`
    files.push({ path, content, mode: item.mode ?? mode })
  }
  return files
}

function dataOf(snapshot: ClusterSnapshot, volume: Volume, namespace: string): { data: Map<string, Buffer> | undefined; what: string } {
  if (volume.configMap) {
    const map = snapshot.configMaps.get(keyOf(namespace, volume.configMap.name))
    const data = map && new Map<string, Buffer>([
      ...Object.entries(map.data ?? {}).map(([k, v]) => [k, Buffer.from(v)] as [string, Buffer]),
      ...Object.entries(map.binaryData ?? {}).map(([k, v]) => [k, Buffer.from(v, 'base64')] as [string, Buffer]),
    ])
    return { data, what: `ConfigMap ${namespace}/${volume.configMap.name}` }
  }
  const secretName = volume.secret?.secretName ?? ''
  const secret = snapshot.secrets.get(keyOf(namespace, secretName))
  const data = secret && new Map(Object.entries(secret.data ?? {}).map(([k, v]) => [k, Buffer.from(v, 'base64')] as [string, Buffer]))
  return { data, what: `Secret ${namespace}/${secretName}` }
}

/** The files under `dir/..data`, as the last atomic write left them. */
function currentFiles(dir: string): VolumeFile[] {
  const data = join(dir, '..data')
  if (!existsSync(data)) return []
  const files: VolumeFile[] = []
  const walk = (sub: string) => {
    for (const entry of readdirSync(join(data, sub), { withFileTypes: true })) {
      const path = sub === '' ? entry.name : join(sub, entry.name)
      if (entry.isDirectory()) walk(path)
      else files.push({ path, content: readFileSync(join(data, path)), mode: lstatSync(join(data, path)).mode & 0o777 })
    }
  }
  walk('')
  return files.sort((a, b) => a.path.localeCompare(b.path))
}

const sameFiles = (a: VolumeFile[], b: VolumeFile[]) =>
  a.length === b.length && a.every((f, i) => f.path === b[i]?.path && f.mode === b[i]?.mode && f.content.equals(b[i]?.content ?? Buffer.alloc(0)))

/**
 * The kubelet's AtomicWriter: files go into a fresh `..<timestamp>` folder, `..data` is swapped to it with one
 * rename, and each top-level name is a symlink through `..data`. A program that re-reads a path (Distribution's
 * htpasswd, by mtime) sees the old or the new content, never half of it. Returns whether anything changed.
 */
export function writeVolumeAtomically(dir: string, files: VolumeFile[]): boolean {
  const wanted = [...files].sort((a, b) => a.path.localeCompare(b.path))
  if (existsSync(join(dir, '..data')) && sameFiles(currentFiles(dir), wanted)) return false
  mkdirSync(dir, { recursive: true })
  const stamp = `..${new Date().toISOString().replace(/[-:.]/g, '_')}.${randomBytes(4).toString('hex')}`
  for (const file of wanted) {
    mkdirSync(dirname(join(dir, stamp, file.path)), { recursive: true })
    writeFileSync(join(dir, stamp, file.path), file.content, { mode: file.mode })
  }
  const previous = existsSync(join(dir, '..data')) ? readlinkSync(join(dir, '..data')) : undefined
  rmSync(join(dir, '..data_tmp'), { force: true })
  symlinkSync(stamp, join(dir, '..data_tmp'))
  renameSync(join(dir, '..data_tmp'), join(dir, '..data'))
  const topLevel = new Set(wanted.map((f) => f.path.split('/')[0] ?? f.path))
  for (const name of topLevel) if (!existsSync(join(dir, name))) symlinkSync(join('..data', name), join(dir, name))
  for (const name of readdirSync(dir)) {
    if (!name.startsWith('..') && !topLevel.has(name)) rmSync(join(dir, name), { force: true })
  }
  if (previous !== undefined && previous !== stamp) rmSync(join(dir, previous), { recursive: true, force: true })
  return true
}

/**
 * Materializes a pod's volumes in its folder: ConfigMap and Secret volumes (updated in place when the object
 * changes), PersistentVolumeClaims (one folder per claim in the state folder), emptyDir. What is missing is
 * reported, not guessed: the pod waits for it, as the kubelet does.
 */
export function materializeVolumes(options: { stateDir: string; podVolumesDir: string; namespace: string; spec: PodSpec; snapshot: ClusterSnapshot }): PodVolumes {
  const { stateDir, podVolumesDir, namespace, spec, snapshot } = options
  const volumes = new Map<string, PodVolume>()
  const waitingFor: string[] = []
  for (const volume of spec.volumes ?? []) {
    const hostPath = join(podVolumesDir, volume.name)
    if (volume.configMap || volume.secret) {
      const { data, what } = dataOf(snapshot, volume, namespace)
      const files = projectedFiles(data, what, volume.configMap ?? volume.secret ?? {})
      if (typeof files === 'string') waitingFor.push(files)
      else {
        writeVolumeAtomically(hostPath, files)
        volumes.set(volume.name, { name: volume.name, hostPath, readOnly: true })
      }
    } else if (volume.persistentVolumeClaim) {
      const claim = volume.persistentVolumeClaim.claimName
      if (!snapshot.claims.has(keyOf(namespace, claim))) waitingFor.push(`PersistentVolumeClaim ${namespace}/${claim} not found`)
      const dir = claimDir(stateDir, namespace, claim)
      mkdirSync(dir, { recursive: true })
      volumes.set(volume.name, { name: volume.name, hostPath: dir, readOnly: volume.persistentVolumeClaim.readOnly ?? false, claim })
    } else if (volume.emptyDir) {
      mkdirSync(hostPath, { recursive: true })
      volumes.set(volume.name, { name: volume.name, hostPath, readOnly: false })
    } else {
      waitingFor.push(`volume ${volume.name}: its type is not one the lab plays (configMap, secret, persistentVolumeClaim, emptyDir)`)
    }
  }
  return { volumes, waitingFor }
}

