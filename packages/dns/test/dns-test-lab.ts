// Shared by the dns tests (not a test file itself): a homelab.yaml aimed at the lab, and a task io that captures output.
import { mkdtempSync, writeFileSync } from 'node:fs'
import { tmpdir } from 'node:os'
import { join } from 'node:path'
import type { TaskIo } from '@homelab/core'

export type PiholeEntryConfig = Record<string, unknown> & { url: string }

export type TestConfigOptions = {
  kubeconfig: string
  namespace: string
  piholes: PiholeEntryConfig[]
  /** Omitted: the records point at the lab's Traefik Service address. */
  ingressIp?: string
  dns?: Record<string, unknown>
  extra?: Record<string, unknown>
}

/** JSON is YAML: a homelab.yaml in a fresh folder, naming only loopback addresses. */
export function writeTestConfig(options: TestConfigOptions): string {
  const dir = mkdtempSync(join(tmpdir(), 'dns-test-'))
  const config = {
    domain: 'homelab.local',
    ingress: options.ingressIp ? { ip: options.ingressIp } : {},
    kubernetes: { kubeconfig: options.kubeconfig, namespace: options.namespace },
    dns: { piholes: options.piholes, ...options.dns },
    nodes: [],
    timeouts: { http: '2s' },
    retries: { attempts: 2, baseDelay: '50ms', maxDelay: '100ms' },
    ...options.extra,
  }
  const path = join(dir, 'homelab.yaml')
  writeFileSync(path, JSON.stringify(config, null, 2), { mode: 0o600 })
  return path
}

export type CapturedIo = { io: TaskIo; text(): string }

export function captureIo(argv: string[], env: Record<string, string | undefined> = {}): CapturedIo {
  let buffer = ''
  const out = { write: (s: string) => void (buffer += s) }
  return { io: { argv, env, cwd: process.cwd(), stdout: out, stderr: out, signal: new AbortController().signal }, text: () => buffer }
}
