// Test helper: a parsed homelab.yaml for the lab, with a LocalStack section of the test's choosing.
import { mkdtempSync, writeFileSync } from 'node:fs'
import { tmpdir } from 'node:os'
import { join } from 'node:path'
import { parseConfig, type HomelabConfig } from '@homelab/core'
import { stringify } from 'yaml'

export function testConfig(localstack: Record<string, unknown> = {}, extra: Record<string, unknown> = {}): HomelabConfig {
  const dir = mkdtempSync(join(tmpdir(), 'localstack-config-'))
  const text = stringify({ domain: 'homelab.local', ingress: { ip: '127.0.5.1' }, dns: { piholes: [] }, nodes: [], localstack, ...extra })
  return parseConfig(text, { sourceName: join(dir, 'homelab.yaml'), baseDir: dir, env: { HOME: dir } })
}

/** The same, as a homelab.yaml file for openToolContext; returns its path. */
export function writeTestConfig(localstack: Record<string, unknown>, extra: Record<string, unknown> = {}): string {
  const dir = mkdtempSync(join(tmpdir(), 'localstack-config-'))
  const path = join(dir, 'homelab.yaml')
  writeFileSync(path, stringify({ domain: 'homelab.local', ingress: { ip: '127.0.5.1' }, dns: { piholes: [] }, nodes: [], localstack, ...extra }), { mode: 0o600 })
  return path
}
