import { Duration, type KubeObject } from '@homelab/core'
import { parse, stringify } from 'yaml'

/** Uploads that take longer are cut at Traefik; ten minutes covers a multi-GB layer on a home network. */
export const WANTED_READ_TIMEOUT_SECONDS = 600

export type ReadTimeout = { seconds: number | undefined; source: string }

/** Traefik durations: `600s`, `10m`, `1h`, or a bare number of seconds. */
function seconds(value: unknown): number | undefined {
  if (typeof value === 'number') return value
  if (typeof value !== 'string') return undefined
  if (/^\d+$/.test(value.trim())) return Number(value.trim())
  return Duration.parse(value.trim()).milliseconds / 1000
}

/**
 * Pure. The websecure read timeout a K3s HelmChartConfig `kube-system/traefik` sets: chart ≥ 28 takes
 * `ports.<ep>.transport.respondingTimeouts.readTimeout`, older charts an `additionalArguments` flag. Undefined seconds:
 * nothing set, so Traefik's default (60 s since v2.11.2 and in v3) applies.
 */
export function configuredReadTimeout(helmChartConfig: KubeObject | undefined, entryPoint: string): ReadTimeout {
  if (!helmChartConfig) return { seconds: undefined, source: 'no HelmChartConfig kube-system/traefik' }
  const text = (helmChartConfig['spec'] as { valuesContent?: string } | undefined)?.valuesContent ?? ''
  const values = (parse(text) ?? {}) as { ports?: Record<string, { transport?: { respondingTimeouts?: { readTimeout?: unknown } } }>; additionalArguments?: unknown[] }
  const fromPorts = values.ports?.[entryPoint]?.transport?.respondingTimeouts?.readTimeout
  if (fromPorts !== undefined) return { seconds: seconds(fromPorts), source: `HelmChartConfig kube-system/traefik ports.${entryPoint}.transport.respondingTimeouts.readTimeout` }
  const flag = `--entrypoints.${entryPoint}.transport.respondingtimeouts.readtimeout=`
  const argument = (values.additionalArguments ?? []).map(String).find((a) => a.toLowerCase().startsWith(flag))
  if (argument !== undefined) return { seconds: seconds(argument.slice(flag.length)), source: 'HelmChartConfig kube-system/traefik additionalArguments' }
  return { seconds: undefined, source: 'HelmChartConfig kube-system/traefik sets no read timeout' }
}

/** Pure. The HelmChartConfig to apply on a K3s server (chart ≥ 28; K3s ≤ 1.31 ships chart 27, which needs the flag form). */
export function readTimeoutHelmChartConfig(entryPoint: string): string {
  return stringify({
    apiVersion: 'helm.cattle.io/v1',
    kind: 'HelmChartConfig',
    metadata: { name: 'traefik', namespace: 'kube-system' },
    spec: { valuesContent: stringify({ ports: { [entryPoint]: { transport: { respondingTimeouts: { readTimeout: `${WANTED_READ_TIMEOUT_SECONDS}s` } } } } }) },
  })
}

/** Pure. The warning for a timeout that cuts long uploads, or undefined when uploads may take as long as they need. */
export function readTimeoutWarning(timeout: ReadTimeout, entryPoint: string): string | undefined {
  if (timeout.seconds === 0 || (timeout.seconds ?? 0) >= WANTED_READ_TIMEOUT_SECONDS) return undefined
  const now = timeout.seconds === undefined ? `Traefik's default of 60 s applies (v2.11.2+ and v3; ${timeout.source})` : `it is ${timeout.seconds} s (${timeout.source})`
  return [
    `Traefik's ${entryPoint} read timeout cuts any push whose layer takes longer to upload: ${now}.`,
    `To raise it, put this in /var/lib/rancher/k3s/server/manifests/traefik-config.yaml on a K3s server (K3s ≤ 1.31: use`,
    `additionalArguments: ["--entryPoints.${entryPoint}.transport.respondingTimeouts.readTimeout=${WANTED_READ_TIMEOUT_SECONDS}s"] instead):`,
    readTimeoutHelmChartConfig(entryPoint).trimEnd(),
  ].join('\n')
}
