// The registry as a user meets it after a fault: is its stored config read-only, and does it really take a write.
import { randomBytes } from 'node:crypto'
import { tmpdir } from 'node:os'
import { loadConfig, type KubeClient } from '@homelab/core'
import { endpointClient, registryEndpoint, storedRegistryPasswords } from '@homelab/registry'
import * as assert from 'uvu/assert'

/** Whether the registry's stored config.yml says read-only; a registry not installed yet is not read-only. */
export async function registryIsReadOnly(kube: KubeClient, namespace: string): Promise<boolean> {
  const configMap = await kube.get({ apiVersion: 'v1', kind: 'ConfigMap', namespace, name: 'registry-config' })
  const text = (configMap?.['data'] as Record<string, string> | undefined)?.['config.yml'] ?? ''
  return /readonly:\s*\n\s*enabled: true/.test(text)
}

/** A blob upload through Traefik with the first user: a read-only registry answers 405. */
export async function assertRegistryTakesWrites(kube: KubeClient, configPath: string): Promise<void> {
  const config = loadConfig({ configPath, cwd: tmpdir(), env: {} })
  const [endpoint, users] = await Promise.all([registryEndpoint(kube, config), storedRegistryPasswords(kube, config.registry)])
  const client = endpointClient(endpoint, config, { auth: users[0]! })
  try {
    const blob = await client.uploadBlob('reliability/writable', randomBytes(64))
    assert.match(blob.digest, /^sha256:/)
  } finally {
    await client.close()
  }
}
