import { createHash } from 'node:crypto'
import type { HomelabConfig } from '@homelab/core'
import { stringify } from 'yaml'
import { MANIFEST_FILES, readManifest } from './manifest-files.js'

/** The parts of Distribution's config.yml this package sets; the rest is as written in the manifest. */
export type DistributionConfig = {
  auth: { htpasswd: { realm: string; path: string } }
  http: { addr: string; debug: { addr: string; prometheus: { enabled: boolean; path: string } }; [key: string]: unknown }
  storage: { maintenance: { readonly: { enabled: boolean }; [key: string]: unknown }; [key: string]: unknown }
  [key: string]: unknown
}

export type RenderedDistributionConfig = { text: string; checksum: string }

export function setRealm(config: DistributionConfig, realm: string): void {
  config.auth.htpasswd.realm = realm
}

export function setPrometheus(config: DistributionConfig, enabled: boolean): void {
  config.http.debug.prometheus.enabled = enabled
}

/** Used by the GC runbook: read-only lives in the file because the env form panics the registry. */
export function setReadOnly(config: DistributionConfig, enabled: boolean): void {
  config.storage.maintenance.readonly.enabled = enabled
}

export function distributionConfig(registry: HomelabConfig['registry'], options: { readOnly?: boolean } = {}): DistributionConfig {
  const config = readManifest<DistributionConfig>(MANIFEST_FILES.distributionConfig)
  setRealm(config, registry.auth.realm)
  setPrometheus(config, registry.metrics.enabled)
  setReadOnly(config, options.readOnly ?? false)
  return config
}

/** config.yml as stored in the ConfigMap, in the manifest's key order, and the hash that rolls the pod when it changes. */
export function renderDistributionConfig(config: DistributionConfig): RenderedDistributionConfig {
  const text = stringify(config, { lineWidth: 0 })
  return { text, checksum: createHash('sha256').update(text).digest('hex') }
}
