import { setTimeout as sleep } from 'node:timers/promises'
import { ApiException, createConfiguration, KubeConfig, KubernetesObjectApi, PatchStrategy, ServerConfiguration, type Configuration, type ResponseContext, type KubernetesObject, type RequestContext } from '@kubernetes/client-node'
// Not re-exported by the package root: the serializer every KubernetesObjectApi call goes through, and its model registry.
import { ObjectSerializer } from '@kubernetes/client-node/dist/serializer.js'
import { ApplyConflictError, KubeError } from '../errors/kube-error.js'
import { describeRef, refOf, type KubeObject, type ObjectRef } from './kube-object.js'
import { formatMs, KubeRequestTimeout, undiciKubeTransport } from './kube-transport.js'

export type KubeClientOptions = {
  /** A kubeconfig file; when absent, client-node's default resolution (KUBECONFIG, ~/.kube/config, in-cluster). */
  kubeconfigPath?: string
  context?: string
  fieldManager: string
  /**
   * How long one API request may take, connection to last byte (`timeouts.kubernetes`; default 30 s). Every call this
   * client makes is a short request (waits poll), so none is cut short by it.
   */
  requestTimeoutMs?: number
}

/** What `timeouts.kubernetes` defaults to, for clients made without a config. */
export const DEFAULT_KUBE_REQUEST_TIMEOUT_MS = 30_000

export type KubeClient = {
  readonly server: string
  readonly fieldManager: string
  get(ref: ObjectRef): Promise<KubeObject | undefined>
  /** Server-side apply; `dryRun` asks the server what the object would become without storing it. */
  apply(object: KubeObject, options: { dryRun: boolean; force: boolean }): Promise<KubeObject>
  /** Plain create: fails with reason AlreadyExists when the object exists (what a lock needs, unlike apply). */
  create(object: KubeObject): Promise<KubeObject>
  /** Plain replace; with metadata.resourceVersion set it fails with reason Conflict if someone wrote in between. */
  replace(object: KubeObject): Promise<KubeObject>
  /** False when it was gone already; `resourceVersion` deletes only that version (else reason Conflict, as replace). */
  delete(ref: ObjectRef, options?: { resourceVersion?: string }): Promise<boolean>
  list(apiVersion: string, kind: string, options?: { namespace?: string; labelSelector?: string }): Promise<KubeObject[]>
  /**
   * Whether the API server serves this kind at this version (from API discovery, shared with every other call: one
   * small request per group, where reading a CRD object itself fetches its whole schema).
   */
  serves(apiVersion: string, kind: string): Promise<boolean>
  /** A generated client-node API (VersionApi, AuthorizationV1Api, …) for what this client does not wrap, on its connections. */
  makeApiClient<T>(type: new (configuration: Configuration) => T): T
  /** The raw client-node config. */
  readonly config: KubeConfig
}

export function createKubeClient(options: KubeClientOptions): KubeClient {
  const config = new KubeConfig()
  if (options.kubeconfigPath) config.loadFromFile(options.kubeconfigPath)
  else config.loadFromDefault()
  if (options.context) config.setCurrentContext(options.context)
  reuseConnections(config)
  const server = config.getCurrentCluster()?.server ?? '(no cluster in kubeconfig)'
  const requestTimeoutMs = options.requestTimeoutMs ?? DEFAULT_KUBE_REQUEST_TIMEOUT_MS
  const configuration = apiConfiguration(config, requestTimeoutMs)
  const api = SharedDiscoveryObjectApi.makeFor(config, configuration, requestTimeoutMs)
  const plugin = credentialPluginOf(config)
  const fail = (action: string, ref: ObjectRef, error: unknown) => toKubeError(action, ref, server, error, plugin)

  const header = (ref: ObjectRef) => {
    keepWhole(ref.apiVersion, ref.kind)
    return { apiVersion: ref.apiVersion, kind: ref.kind, metadata: { name: ref.name, ...(ref.namespace ? { namespace: ref.namespace } : {}) } }
  }
  const whole = <T extends { apiVersion: string; kind: string }>(object: T): T => {
    keepWhole(object.apiVersion, object.kind)
    return structuredClone(object)
  }

  return {
    server,
    fieldManager: options.fieldManager,
    config,
    makeApiClient: (type) => new type(configuration),
    async get(ref) {
      try {
        return (await onceMoreOnStaleConnection(() => api.read(header(ref)))) as unknown as KubeObject
      } catch (error) {
        if (isStatus(error, 404)) return undefined
        throw fail('read', ref, error)
      }
    },
    async apply(object, { dryRun, force }) {
      try {
        // client-node fills in a default namespace on the object it is given: hand it a copy.
        const body = whole(stripServerFields(object)) as unknown as KubernetesObject
        const out = await onceMoreOnStaleConnection(() => api.patch(body, undefined, dryRun ? 'All' : undefined, options.fieldManager, force, PatchStrategy.ServerSideApply))
        return out as unknown as KubeObject
      } catch (error) {
        throw fail(dryRun ? 'dry-run apply' : 'apply', refOf(object), error)
      }
    },
    async create(object) {
      try {
        return (await api.create(whole(object) as unknown as KubernetesObject, undefined, undefined, options.fieldManager)) as unknown as KubeObject
      } catch (error) {
        throw fail('create', refOf(object), error)
      }
    },
    async replace(object) {
      try {
        return (await api.replace(whole(object) as unknown as KubernetesObject, undefined, undefined, options.fieldManager)) as unknown as KubeObject
      } catch (error) {
        throw fail('replace', refOf(object), error)
      }
    },
    async delete(ref, options = {}) {
      const preconditions = options.resourceVersion === undefined ? undefined : { preconditions: { resourceVersion: options.resourceVersion } }
      try {
        await onceMoreOnStaleConnection(() => api.delete(header(ref), undefined, undefined, undefined, undefined, 'Background', preconditions))
        return true
      } catch (error) {
        if (isStatus(error, 404)) return false
        throw fail('delete', ref, error)
      }
    },
    async serves(apiVersion, kind) {
      try {
        return await onceMoreOnStaleConnection(() => api.serves(apiVersion, kind))
      } catch (error) {
        throw fail('discover', { apiVersion, kind, name: '(discovery)' }, error)
      }
    },
    async list(apiVersion, kind, listOptions = {}) {
      const ref = { apiVersion, kind, name: '*', ...(listOptions.namespace ? { namespace: listOptions.namespace } : {}) }
      keepWhole(apiVersion, kind)
      try {
        const out = await onceMoreOnStaleConnection(() => api.list(apiVersion, kind, listOptions.namespace, undefined, undefined, undefined, undefined, listOptions.labelSelector))
        return out.items as unknown as KubeObject[]
      } catch (error) {
        throw fail('list', ref, error)
      }
    },
  }
}

/**
 * client-node picks the model for a body or an answer by `<Version><Kind>` alone, ignoring the group: a custom
 * resource whose kind matches a built-in model lost apiVersion, metadata and spec on the way (the Prometheus
 * operator's `monitoring.coreos.com/v1` Probe went out as the container `V1Probe` and the API server refused it;
 * kubernetes-client/javascript#1747, closed unfixed). Objects of custom groups travel as they are, through the
 * registry client-node offers for custom resources.
 */
const AS_IS = { serialize: (data: unknown) => data, deserialize: (data: unknown) => data }
/** Kubernetes' own groups with a dot; custom ones may end in `.k8s.io` too (Gateway API, `*.x-k8s.io`). */
const BUILT_IN_GROUPS = new Set(
  ['admissionregistration', 'apiextensions', 'apiregistration', 'authentication', 'authorization', 'certificates', 'coordination', 'discovery', 'events',
    'flowcontrol.apiserver', 'internal.apiserver', 'networking', 'node', 'rbac.authorization', 'resource', 'scheduling', 'storage', 'storagemigration']
    .map((g) => `${g}.k8s.io`),
)
/** What this process registered: client-node's registry refuses a kind twice, and its lookup is private. */
const keptWhole = new Set<string>()
function keepWhole(apiVersion: string, kind: string): void {
  const [group = '', version] = apiVersion.split('/')
  if (version === undefined || !group.includes('.') || BUILT_IN_GROUPS.has(group) || keptWhole.has(`${apiVersion}/${kind}`)) return
  keptWhole.add(`${apiVersion}/${kind}`)
  for (const each of [kind, `${kind}List`]) {
    try {
      ObjectSerializer.registerModel({ group, version, kind: each }, AS_IS)
    } catch (error) {
      // Another copy of this module in the process registered it first: the registry is client-node's, shared.
      if (!(error instanceof Error && error.message.endsWith('is already defined'))) throw error
    }
  }
}

/**
 * client-node looks up each API group's resources before a call and caches the list, but calls that start together
 * each fetch it: a step run with twenty objects in flight sent twenty identical discovery requests. A call for a
 * group already being fetched waits for that fetch, then reads the cache (or fetches again if its kind is missing).
 */
class SharedDiscoveryObjectApi extends KubernetesObjectApi {
  readonly #fetching = new Map<string, Promise<unknown>>()
  #requestTimeoutMs = DEFAULT_KUBE_REQUEST_TIMEOUT_MS

  /** Whether discovery lists this kind in this group version; a group the server does not have is a no. */
  async serves(apiVersion: string, kind: string): Promise<boolean> {
    try {
      return (await this.resource(apiVersion, kind)) !== undefined
    } catch (error) {
      if (isMissingKind(error)) return false
      throw error
    }
  }

  /** What KubernetesObjectApi.makeApiClient does, for this class. */
  static makeFor(config: KubeConfig, configuration: Configuration, requestTimeoutMs: number): SharedDiscoveryObjectApi {
    const api = new SharedDiscoveryObjectApi(configuration)
    api.setDefaultNamespace(config)
    api.#requestTimeoutMs = requestTimeoutMs
    return api
  }

  /**
   * Every request, discovery included, goes through here. A hung API server (accepts, never answers) would otherwise
   * hold the run forever: the signal ends the request and frees its connection, and the race also covers the
   * credential step before it (an exec plugin that never returns).
   */
  protected override async requestPromise<T extends KubernetesObject>(context: RequestContext, type?: string, options?: Configuration): Promise<T> {
    for (let attempt = 1; ; attempt++) {
      try {
        return await this.#requestOnce<T>(context, type, options)
      } catch (error) {
        const wait = attempt < THROTTLED_ATTEMPTS ? throttledFor(error) : undefined
        if (wait === undefined) throw error
        await sleep(wait)
      }
    }
  }

  async #requestOnce<T extends KubernetesObject>(context: RequestContext, type?: string, options?: Configuration): Promise<T> {
    const ms = this.#requestTimeoutMs
    const controller = new AbortController()
    let timer: NodeJS.Timeout | undefined
    const timedOut = new Promise<never>((_, reject) => {
      timer = setTimeout(() => {
        const error = new KubeRequestTimeout(ms)
        controller.abort(error)
        reject(error)
      }, ms)
    })
    context.setSignal(controller.signal)
    try {
      return await Promise.race([super.requestPromise<T>(context, type, options), timedOut])
    } finally {
      clearTimeout(timer)
    }
  }

  /**
   * A success is handed on as the JSON the API server sent. client-node would turn it into its model classes, picked by
   * version and kind alone (a Prometheus-operator `Probe` of monitoring.coreos.com/v1 came back as the container probe
   * `V1Probe`, emptied), with Dates for timestamps: this client's callers read plain objects (KubeObject), and the walk
   * through the models was a twentieth of a no-op bootstrap's CPU. Failures still become client-node's ApiException.
   */
  protected override async processResponse<T extends KubernetesObject>(response: ResponseContext, type?: string): Promise<T> {
    const ok = response.httpStatusCode >= 200 && response.httpStatusCode <= 299
    return ok ? ObjectSerializer.parse(await response.body.text(), ObjectSerializer.normalizeMediaType(response.headers['content-type'])) : super.processResponse(response, type)
  }

  protected override async resource(apiVersion: string, kind: string, options?: Parameters<KubernetesObjectApi['create']>[4]): ReturnType<KubernetesObjectApi['resource']> {
    const pending = this.#fetching.get(apiVersion)
    if (pending) {
      // Its failure is the first caller's to report; this call asks again and reports its own.
      await pending.catch(() => undefined)
      return super.resource(apiVersion, kind, options)
    }
    const first = super.resource(apiVersion, kind, options)
    this.#fetching.set(apiVersion, first)
    try {
      return await first
    } finally {
      this.#fetching.delete(apiVersion)
    }
  }
}

/**
 * A busy API server (API Priority and Fairness, a K3s server on a small board with many controllers) answers 429
 * before it does anything, with Retry-After: any call, a create too, can be sent again after it, as client-go does.
 * Three tries, each after what Retry-After asks (at most 10 s; 1 s when it says nothing).
 */
const THROTTLED_ATTEMPTS = 3

/** How long a 429 asks to wait, or undefined for any other failure. */
export function throttledFor(error: unknown): number | undefined {
  if (!(error instanceof ApiException) || error.code !== 429) return undefined
  const header = Object.entries(error.headers ?? {}).find(([name]) => name.toLowerCase() === 'retry-after')?.[1]
  const seconds = Number(header)
  return Number.isFinite(seconds) && seconds >= 0 ? Math.min(10_000, Math.max(100, seconds * 1000)) : 1000
}

/**
 * A kept-alive connection the server closed just as a request went out on it fails with one of these (undici says
 * "other side closed"; node-fetch 2, still used behind a proxy, "Premature close"). get, list, server-side apply and
 * delete are safe to send again, once; create and replace are not (a create that did land would come back
 * AlreadyExists), so they are never retried.
 */
const STALE_CONNECTION = /other side closed|Premature close|ECONNRESET|EPIPE|socket hang up/

export async function onceMoreOnStaleConnection<T>(request: () => Promise<T>): Promise<T> {
  try {
    return await request()
  } catch (error) {
    // The server answered: whatever its text says (a webhook's "socket hang up" in a 500), the connection worked.
    if (error instanceof ApiException) throw error
    const socketClosed = (error as { code?: unknown } | undefined)?.code === 'UND_ERR_SOCKET'
    if (!socketClosed && !STALE_CONNECTION.test(error instanceof Error ? error.message : String(error))) throw error
    return request()
  }
}

/** Fields the server owns; sending them in an apply is an error or a no-op. */
function stripServerFields(object: KubeObject): KubeObject {
  const { resourceVersion: _rv, managedFields: _mf, uid: _uid, creationTimestamp: _ct, generation: _g, ...metadata } = object.metadata
  const { status: _status, ...rest } = object
  return { ...rest, metadata } as KubeObject
}

const safeJson = (text: string): unknown => {
  try {
    return JSON.parse(text)
  } catch {
    return text
  }
}

const isStatus = (error: unknown, code: number) => error instanceof ApiException && error.code === code && !isMissingKind(error)

/** The reason given to a KubeError when a request ran past `timeouts.kubernetes`. */
export const KUBE_TIMEOUT = 'Timeout'

/** The reason given to a KubeError when the API has no such kind at all (an absent CRD). */
export const NO_KIND = 'NoKind'

// client-node discovers kinds before each call: an unknown group fails discovery with 404, an unknown kind in a known
// group with a plain Error. Both mean "this kind does not exist here", not "this object does not exist".
const isMissingKind = (error: unknown) =>
  error instanceof Error &&
  (/^Unrecognized API version and kind/.test(error.message) || (isApiStatus(error, 404) && /^Failed to fetch resource metadata/.test(error.message)))

const isApiStatus = (error: unknown, code: number) => error instanceof ApiException && error.code === code

type StatusBody = { message?: string; reason?: string; details?: { name?: string; kind?: string; causes?: { message?: string; field?: string }[] } }

function statusBody(error: ApiException<unknown>): StatusBody {
  const body = typeof error.body === 'string' ? safeJson(error.body) : error.body
  return body && typeof body === 'object' ? (body as StatusBody) : { message: String(error.body) }
}

/** The command of the kubeconfig user's credential plugin (`users[].user.exec`), if it has one. */
export const credentialPluginOf = (config: KubeConfig): string | undefined => config.getCurrentUser()?.exec?.command ?? undefined

/** The first `code` on the error or its causes: Node's and undici's errno and TLS codes. */
function errorCode(error: unknown): string {
  for (let e = error as { code?: unknown; cause?: unknown } | undefined, depth = 0; e && depth < 4; e = e.cause as typeof e, depth++) {
    if (typeof e.code === 'string') return e.code
  }
  return ''
}

// The server's certificate did not check out against the kubeconfig's CA, or names another host.
const TLS_FAILURE = /CERT|SELF_SIGNED|UNABLE_TO_VERIFY|ERR_TLS|ALTNAME/
// Nothing answered at that address: down, refused, no route, no such name, or undici gave up connecting.
const NO_CONNECTION = /^(ECONNREFUSED|ECONNRESET|EHOSTUNREACH|ENETUNREACH|ENOTFOUND|EAI_AGAIN|ETIMEDOUT|EPIPE|UND_ERR_\w+)$/

/**
 * Turns client-node failures into messages that say what, where and what to do. `plugin`: the kubeconfig user's
 * credential command, which is what failed when nothing was sent (its own failure carries only its stderr).
 */
export function toKubeError(action: string, ref: ObjectRef, server: string, error: unknown, plugin?: string): KubeError {
  const object = describeRef(ref)
  if (error instanceof KubeRequestTimeout) {
    return new KubeError(`cannot ${action} ${object}: API server ${server} did not answer within ${formatMs(error.timeoutMs)} (timeouts.kubernetes)`, {
      host: server,
      object,
      key: 'timeouts.kubernetes',
      reason: KUBE_TIMEOUT,
      cause: error,
      hint: 'check that the API server is up and not overloaded, or raise timeouts.kubernetes in the config',
    })
  }
  if (isMissingKind(error)) {
    return new KubeError(`cannot ${action} ${object}: the API server has no kind ${ref.kind} in ${ref.apiVersion}`, {
      host: server,
      object,
      status: 404,
      reason: NO_KIND,
      cause: error,
      hint: `install the CRD that defines ${ref.kind} (${ref.apiVersion.split('/')[0]}) first`,
    })
  }
  if (!(error instanceof ApiException)) {
    // client-node prefixes discovery's failures; what is left is the cause's own text.
    const why = (error instanceof Error ? error.message : String(error)).replace(/^Failed to fetch resource metadata for \S+: /, '')
    const code = errorCode(error)
    if (TLS_FAILURE.test(code)) {
      return new KubeError(`cannot ${action} ${object}: API server ${server} presented a certificate the kubeconfig does not trust (${code}: ${why})`, {
        host: server,
        object,
        cause: error,
        hint: "the cluster's certificate-authority-data in the kubeconfig must be the cluster's own CA (K3s: copy it from /etc/rancher/k3s/k3s.yaml on a server node); set tls-server-name when the server is reached by a name its certificate does not hold",
      })
    }
    if (plugin && !NO_CONNECTION.test(code)) {
      return new KubeError(`cannot ${action} ${object}: the kubeconfig user's credential plugin ${plugin} failed${why.trim() ? `: ${why.trim()}` : ' (it exited non-zero and said nothing)'}`, {
        host: server,
        object,
        cause: error,
        hint: `run ${plugin} by hand (the args and env under the kubeconfig user's exec) to see why: it must print an ExecCredential`,
      })
    }
    return new KubeError(`cannot ${action} ${object}: API server ${server} unreachable (${why})`, {
      host: server,
      object,
      cause: error,
      hint: 'check that the cluster is up and the kubeconfig points at it (--kubeconfig or KUBECONFIG)',
    })
  }
  const body = statusBody(error)
  const message = body.message ?? error.message
  if (error.code === 409 && /conflict/i.test(message) && action.includes('apply')) {
    const conflicts = parseConflicts(message)
    const list = conflicts.map((c) => `${c.field} (owned by "${c.manager}")`).join(', ')
    return new ApplyConflictError(`${action} of ${object} conflicts with another field manager: ${list}`, {
      host: server,
      object,
      status: 409,
      conflicts,
      cause: error,
      hint: 'another tool changed these fields; re-run with --force-conflicts to take them over for "homelab-devtools"',
    })
  }
  const hints: Record<number, string> = {
    401: 'the kubeconfig credentials were refused; refresh them',
    403: 'the kubeconfig user lacks permission; run preflight to see which',
    // A missing namespace answers 404 with details naming it; otherwise the kind itself is missing.
    404: body.details?.kind === 'namespaces'
      ? `namespace ${body.details.name ?? ref.namespace} does not exist: bootstrap makes it (check kubernetes.namespace and the component's namespace in the config)`
      : `the API has no ${ref.kind} (${ref.apiVersion}); is its CRD installed?`,
    422: 'the object is invalid; this is a bug in the rendered manifest',
    429: `the API server is too busy to answer (asked ${THROTTLED_ATTEMPTS} times, waiting as it said between them): run again in a while, and look at what loads it`,
  }
  return new KubeError(`cannot ${action} ${object}: ${error.code} ${body.reason ?? ''} ${message}`.replace(/\s+/g, ' ').trim(), {
    host: server,
    object,
    status: error.code,
    ...(body.reason ? { reason: body.reason } : {}),
    cause: error,
    ...(hints[error.code] ? { hint: hints[error.code] } : {}),
  })
}

/** `Apply failed with 2 conflicts: conflict with "kubectl" using v1: .data.a\nconflict with "x": .spec.b` */
export function parseConflicts(message: string): { manager: string; field: string }[] {
  const out: { manager: string; field: string }[] = []
  for (const m of message.matchAll(/conflict with "([^"]+)"(?: using [^:]+)?: (\S+)/g)) out.push({ manager: m[1]!, field: m[2]! })
  return out
}

/**
 * What KubeConfig.makeApiClient gives every generated API, with requests on undici (kube-transport.ts); those APIs time
 * nothing themselves, so a hung API server ends their request a second after `timeouts.kubernetes`.
 */
function apiConfiguration(config: KubeConfig, requestTimeoutMs: number): Configuration {
  const cluster = config.getCurrentCluster()
  if (!cluster) throw new Error('No active cluster!')
  const configuration = createConfiguration({ baseServer: new ServerConfiguration(cluster.server, {}), authMethods: { default: config } })
  // Through a proxy (`proxy-url`), client-node's own transport: its proxy agents speak CONNECT (or SOCKS) themselves.
  if (cluster.proxyUrl) return configuration
  return { ...configuration, httpApi: undiciKubeTransport(configuration.httpApi, { timeoutMs: requestTimeoutMs }) }
}

type AgentFactory = (cluster: unknown, options: Record<string, unknown>) => { destroy?(): void }

/**
 * client-node 1.4 makes a new https.Agent for every request, so every call paid a TCP and TLS handshake with a client
 * certificate (9 ms against 2.6 ms here, over a hundred calls per bootstrap). One keep-alive agent per distinct set of
 * TLS material is reused instead; idle sockets are unref'd by Node, so they never keep the process alive. Keyed by
 * that material, so credentials a kubeconfig exec plugin rotates still get an agent of their own.
 */
function reuseConnections(config: KubeConfig): void {
  const target = config as unknown as { createAgent: AgentFactory }
  const create = target.createAgent.bind(config)
  const agents = new Map<string, ReturnType<AgentFactory>>()
  target.createAgent = (cluster, agentOptions) => {
    const key = JSON.stringify(['ca', 'cert', 'key', 'pfx', 'passphrase', 'rejectUnauthorized'].map((k) => String(agentOptions[k] ?? '')))
    let agent = agents.get(key)
    if (!agent) agents.set(key, (agent = create(cluster, { ...agentOptions, keepAlive: true })))
    return agent
  }
}
