import { createHttpClient, type HttpClient } from '@homelab/core'
import type { LocalstackEndpoint } from './localstack-endpoint.js'

/** `GET /_localstack/health` (LocalStack 4.x, `services/internal.py`). */
export type HealthDocument = { services: Record<string, string>; edition: string; version: string; features?: Record<string, string> }
/** `GET /_localstack/info`. */
export type InfoDocument = { version: string; edition: string; is_license_activated: boolean; session_id: string; machine_id: string; system: string; is_docker: boolean; server_time_utc: string; uptime: number }

const READY_STATES = new Set(['available', 'running'])

/** Pure. Why a service is not usable according to health, or undefined when it is (`available` is lazy, not broken). */
export function serviceProblem(health: HealthDocument, service: string): string | undefined {
  const state = health.services[service]
  if (state === undefined) return `${service} is not listed by /_localstack/health`
  if (!READY_STATES.has(state)) return `${service} is ${state} in /_localstack/health (want available or running)${state === 'disabled' ? '; is it in SERVICES?' : ''}`
  return undefined
}

/**
 * Pure. A version as Python packaging writes it (PEP 440): numeric parts without leading zeros. LocalStack reports its
 * package's version, which setuptools normalises, while its calendar image tags keep the zero: the image
 * `2026.07.0` reports `2026.7.0` (as its CLI on PyPI and winget is `2026.7.0`).
 */
export function normalisedVersion(version: string): string {
  return version.split('.').map((part) => (/^\d+$/.test(part) ? String(Number.parseInt(part, 10)) : part)).join('.')
}

/** Pure. The gateway's own problems: another version than the pinned image, or another edition than configured. */
export function gatewayProblems(health: HealthDocument, want: { version: string; edition: 'community' | 'token' }): string[] {
  const problems: string[] = []
  if (normalisedVersion(health.version) !== normalisedVersion(want.version)) problems.push(`version is ${health.version}, but the pinned image is ${want.version}`)
  if (want.edition === 'community' && health.edition !== 'community') problems.push(`edition is ${health.edition}, want community`)
  if (want.edition === 'token' && health.edition === 'community') problems.push('edition is community although a token is configured: the token was not accepted')
  return problems
}

export type LocalstackStatusClient = { health(): Promise<HealthDocument>; info(): Promise<InfoDocument>; close(): Promise<void> }

export function createStatusClient(endpoint: LocalstackEndpoint, options: { timeoutMs: number }): LocalstackStatusClient {
  const host = new URL(endpoint.url).hostname
  const http: HttpClient = createHttpClient({ baseUrl: endpoint.url, ca: endpoint.ca, resolve: { [host]: endpoint.connectTo }, timeoutMs: options.timeoutMs })
  return {
    health: async () => (await http.request('GET', '/_localstack/health')).json<HealthDocument>(),
    info: async () => (await http.request('GET', '/_localstack/info')).json<InfoDocument>(),
    close: () => http.close(),
  }
}
