// Test helper: a parsed homelab.yaml for the lab, with a LocalStack section of the test's choosing.
import { mkdtempSync } from 'node:fs'
import { tmpdir } from 'node:os'
import { join } from 'node:path'
import { parseConfig, type HomelabConfig } from '@homelab/core'
import { stringify } from 'yaml'

export function testConfig(localstack: Record<string, unknown> = {}, extra: Record<string, unknown> = {}): HomelabConfig {
  const dir = mkdtempSync(join(tmpdir(), 'localstack-config-'))
  const text = stringify({ domain: 'homelab.local', ingress: { ip: '127.0.3.1' }, dns: { piholes: [] }, nodes: [], localstack, ...extra })
  return parseConfig(text, { sourceName: join(dir, 'homelab.yaml'), baseDir: dir, env: { HOME: dir } })
}
