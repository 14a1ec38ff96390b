import { existsSync, readFileSync } from 'node:fs'
import { basename } from 'node:path'
import { parse } from 'yaml'
import type { Container } from './kube-objects.js'
import { tsxProgramArgv } from './tsx-program.js'

export type RunnerInput = {
  container: Container
  /** Set for a Deployment's pod, which must listen on it only; a Job's pod listens nowhere. */
  podIp?: string
  env: Readonly<Record<string, string>>
  /** The host file behind a path inside the pod (through its volume mounts), to read a config the program will read. */
  hostPathOf: (containerPath: string) => string | undefined
}

/** What to exec inside the pod's mount namespace, and the variables that pin it to its pod IP. */
export type RunnerCommand = { argv: string[]; env: Record<string, string> }

/**
 * One row of the lab's image table: which images it can play, and with what local program. Add a row to run a new
 * image (LocalStack will be one); nothing else in the kubelet knows about images.
 */
export type ImageRunner = { image: RegExp; program: string; command: (input: RunnerInput) => RunnerCommand }

const DOCKER_REGISTRY = '/usr/bin/docker-registry'

/** Pure. The `registry:2` image's entrypoint: `*.yml` → `registry serve FILE`; a registry subcommand or flag → `registry ARGS`. */
export function registryArgv(container: Pick<Container, 'command' | 'args'>): string[] {
  const toBinary = (argv: string[]) => argv.map((arg, i) => (i === 0 && basename(arg) === 'registry' ? DOCKER_REGISTRY : arg))
  if (container.command?.length) return toBinary([...container.command, ...(container.args ?? [])])
  const args = container.args?.length ? container.args : ['/etc/docker/registry/config.yml']
  const first = args[0] ?? ''
  if (/\.ya?ml$/.test(first)) return [DOCKER_REGISTRY, 'serve', first]
  if (['serve', 'garbage-collect', 'help'].includes(first) || first.startsWith('-')) return [DOCKER_REGISTRY, ...args]
  return toBinary(args)
}

const portOf = (addr: unknown): number | undefined => {
  const match = typeof addr === 'string' ? /:(\d+)$/.exec(addr) : null
  return match ? Number(match[1]) : undefined
}

/** The config file `serve` reads, parsed, or {} when it cannot be read yet. */
function registryConfig(argv: string[], input: RunnerInput): { http?: { addr?: string; debug?: { addr?: string } } } {
  const serveAt = argv.indexOf('serve')
  const containerPath = input.env.REGISTRY_CONFIGURATION_PATH ?? (serveAt >= 0 ? argv[serveAt + 1] : undefined)
  const hostPath = containerPath === undefined ? undefined : input.hostPathOf(containerPath)
  if (hostPath === undefined || !existsSync(hostPath)) return {}
  const parsed: unknown = parse(readFileSync(hostPath, 'utf8'))
  return typeof parsed === 'object' && parsed !== null ? parsed : {}
}

/** Distribution listens where its config (or env) says, but on the pod IP instead of every interface. */
function registryCommand(input: RunnerInput): RunnerCommand {
  const argv = registryArgv(input.container)
  if (input.podIp === undefined) return { argv, env: {} }
  const config = registryConfig(argv, input)
  const namedPort = (name: string) => input.container.ports?.find((p) => p.name === name)?.containerPort
  const httpPort = portOf(input.env.REGISTRY_HTTP_ADDR) ?? portOf(config.http?.addr) ?? namedPort('http') ?? 5000
  const debugPort = portOf(input.env.REGISTRY_HTTP_DEBUG_ADDR) ?? portOf(config.http?.debug?.addr)
  const env: Record<string, string> = { REGISTRY_HTTP_ADDR: `${input.podIp}:${httpPort}` }
  if (debugPort !== undefined) env.REGISTRY_HTTP_DEBUG_ADDR = `${input.podIp}:${debugPort}`
  return { argv, env }
}

/** Joxit's image is nginx serving the UI and proxying /v2; the lab's double does both in Node. */
function registryUiCommand(input: RunnerInput): RunnerCommand {
  return { argv: tsxProgramArgv('registry-ui-double'), env: input.podIp === undefined ? {} : { LAB_POD_IP: input.podIp } }
}

/**
 * LocalStack's gateway on the pod IP. The version health reports is its Python package's: the image tag as PEP 440
 * normalises it (4.14.0 → 4.14.0, 2026.07.0 → 2026.7.0), as a real LocalStack's does.
 */
function localstackCommand(input: RunnerInput): RunnerCommand {
  const tag = /:([\w.-]+)(@sha256:[a-f0-9]+)?$/.exec(input.container.image ?? '')?.[1]
  const version = tag?.split('.').map((part) => (/^\d+$/.test(part) ? String(Number.parseInt(part, 10)) : part)).join('.')
  const env: Record<string, string> = version ? { LAB_LOCALSTACK_VERSION: version } : {}
  return { argv: tsxProgramArgv('localstack-double'), env: input.podIp === undefined ? env : { ...env, LAB_POD_IP: input.podIp } }
}

// The LocalStack double runs Lambda handlers in-process (lambda-local): the Docker engine sidecar only has to be up.
const idleSidecarCommand = (): RunnerCommand => ({ argv: ['sleep', 'infinity'], env: {} })

export const IMAGE_RUNNERS: readonly ImageRunner[] = [
  { image: /^(docker\.io\/)?(library\/)?registry:2(\.[\w.-]+)?(@sha256:[a-f0-9]+)?$/, program: 'docker-registry (Debian, Distribution 2.8.2)', command: registryCommand },
  { image: /^(docker\.io\/)?localstack\/localstack(-pro)?:[\w.-]+(@sha256:[a-f0-9]+)?$/, program: 'LocalStack double (Node: s3rver, dynalite, lambda-local, SQS/SNS emulators)', command: localstackCommand },
  { image: /^(docker\.io\/)?(library\/)?docker:[\w.-]*dind(@sha256:[a-f0-9]+)?$/, program: 'idle sidecar (the LocalStack double needs no Docker engine)', command: idleSidecarCommand },
  { image: /^(docker\.io\/)?joxit\/docker-registry-ui(:[\w.-]+)?(@sha256:[a-f0-9]+)?$/, program: 'registry UI double (Node)', command: registryUiCommand },
]

/** The runner for an image reference, or undefined when the lab cannot play it. */
export function runnerFor(image: string | undefined): ImageRunner | undefined {
  return image === undefined ? undefined : IMAGE_RUNNERS.find((runner) => runner.image.test(image))
}
