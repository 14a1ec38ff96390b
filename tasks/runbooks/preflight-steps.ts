import { VersionApi } from '@kubernetes/client-node'
import { checkStep, credentialPluginOf, KubeError, NO_KIND, retryPolicyFromConfig, toKubeError, type Step, type ToolContext } from '@homelab/core'
import { appSudoFix, piholeConnector, resolveIngressIp } from '@homelab/dns'
import { resolveNodeName, trustNodes } from '@homelab/node-trust'
import { accessNeeds, deniedVerbs, describeNeed, mayDoEverything } from './access-review.js'
import { RunbookError } from './errors/runbook-error.js'
import { configuredReadTimeout, readTimeoutWarning } from './traefik-read-timeout.js'

const API_STEP = 'kubernetes API server reachable'

/**
 * The two halves of preflight. `cluster`: the API server, the user's rights, CRDs, storage, ingress, Traefik and the
 * Pi-holes, which registry, dns and localstack need. `nodes`: SSH and sudo on every node, which only node-trust needs.
 * The pipeline runs them as two stages, so a node that is down stops node-trust without holding back the rest.
 */
export const PREFLIGHT_PARTS = ['cluster', 'nodes'] as const
export type PreflightPart = (typeof PREFLIGHT_PARTS)[number]

/** Every check bootstrap's success depends on (or one part's), one step each: one line says what is wrong and the fix. */
export function preflightSteps(ctx: ToolContext, only?: PreflightPart): Step<any, any, any>[] {
  const cluster = () => [...piholeSteps(ctx), apiServerStep(ctx), ...accessSteps(ctx), ...crdSteps(ctx), ...storageClassSteps(ctx), ...tlsSteps(ctx), ingressStep(ctx), traefikTimeoutStep(ctx)]
  // The SSH handshakes and Pi-hole logins are the slowest and need nothing else: they start first.
  return only === 'nodes' ? nodeSteps(ctx) : only === 'cluster' ? cluster() : [...nodeSteps(ctx), ...cluster()]
}

function apiServerStep(ctx: ToolContext): Step {
  return checkStep(API_STEP, async (stepCtx) => {
    const kube = ctx.kube()
    try {
      const version = await kube.makeApiClient(VersionApi).getCode()
      stepCtx.progress(`${kube.server} runs Kubernetes ${version.gitVersion}`)
    } catch (error) {
      throw toKubeError('reach', { apiVersion: 'v1', kind: 'Version', name: '/version' }, kube.server, error, credentialPluginOf(kube.config))
    }
  })
}

function accessSteps(ctx: ToolContext): Step[] {
  let everything: Promise<boolean> | undefined
  return accessNeeds(ctx.config).map((need) =>
    checkStep(`may ${describeNeed(need)}`, async (stepCtx) => {
      everything ??= mayDoEverything(ctx.kube())
      const denied = (await everything) ? [] : await deniedVerbs(ctx.kube(), need)
      if (denied.length === 0) return
      const what = `the kubeconfig's user may not ${denied.join(', ')} ${need.group ? `${need.resource}.${need.group}` : need.resource}${need.namespace ? ` in namespace ${need.namespace}` : ''}`
      if (need.optional) return stepCtx.warn(`${what}: ${need.optional}`)
      throw new RunbookError(what, { host: ctx.kube().server, hint: `grant it (a Role/ClusterRole with these verbs bound to that user), or use a kubeconfig with cluster-admin for bootstrap` })
    }, [API_STEP]),
  )
}

// Each CRD by the group version and kind the tool writes: served at that version is what bootstrap needs.
const REQUIRED_CRDS = [
  ['ingressroutes.traefik.io', 'traefik.io/v1alpha1', 'IngressRoute', 'Traefik (K3s installs it; on other clusters install the Traefik Helm chart with its CRDs)'],
  ['certificates.cert-manager.io', 'cert-manager.io/v1', 'Certificate', 'cert-manager (helm install cert-manager oci://quay.io/jetstack/charts/cert-manager -n cert-manager --create-namespace --set crds.enabled=true)'],
  ['clusterissuers.cert-manager.io', 'cert-manager.io/v1', 'ClusterIssuer', 'cert-manager (see above)'],
] as const
const OPTIONAL_CRDS = [
  ['servicemonitors.monitoring.coreos.com', 'monitoring.coreos.com/v1', 'ServiceMonitor', 'no ServiceMonitor: the registry metrics are still served on :5001, but no Prometheus operator scrapes them'],
  ['probes.monitoring.coreos.com', 'monitoring.coreos.com/v1', 'Probe', 'no Probe: LocalStack health is not monitored by a Prometheus operator'],
] as const

function crdSteps(ctx: ToolContext): Step[] {
  const missing = (name: string, apiVersion: string, kind: string) => `the API server does not serve ${kind} in ${apiVersion}: CRD ${name} is missing, or lacks that version`
  return [
    ...REQUIRED_CRDS.map(([name, apiVersion, kind, from]) =>
      checkStep(`CRD ${name} present`, async () => {
        if (!(await ctx.kube().serves(apiVersion, kind))) throw new RunbookError(missing(name, apiVersion, kind), { host: ctx.kube().server, hint: `install ${from}` })
      }, [API_STEP])),
    ...OPTIONAL_CRDS.map(([name, apiVersion, kind, without]) =>
      checkStep(`CRD ${name} present (optional)`, async (stepCtx) => {
        if (!(await ctx.kube().serves(apiVersion, kind))) stepCtx.warn(`${missing(name, apiVersion, kind)}: ${without}; install the Prometheus operator to get it`)
      }, [API_STEP])),
  ]
}

function storageClassSteps(ctx: ToolContext): Step[] {
  // LocalStack's class only when LocalStack is on: a disabled piece must not stop the others.
  const localstackClass = ctx.config.localstack.enabled ? [ctx.config.localstack.storage.storageClass] : []
  const classes = [...new Set([ctx.config.registry.storage.storageClass, ...localstackClass])]
  return classes.map((name) =>
    checkStep(`StorageClass ${name} present`, async () => {
      if (await ctx.kube().get({ apiVersion: 'storage.k8s.io/v1', kind: 'StorageClass', name })) return
      const users = [ctx.config.registry.storage.storageClass === name ? 'registry.storage.storageClass' : undefined, localstackClass.includes(name) ? 'localstack.storage.storageClass' : undefined].filter(Boolean).join(' and ')
      throw new RunbookError(`the API server has no StorageClass ${name}, so the volumes would stay Pending`, { key: users, hint: `set ${users} to one of \`kubectl get storageclass\`, or install the local-path provisioner (K3s ships it)` })
    }, [API_STEP]))
}

/**
 * What the certificates are issued from, which bootstrap does not make: in ca mode the namespace the root CA goes in
 * (cert-manager's own, by default), in acme mode the issuer the config names (a namespaced Issuer in every namespace
 * that gets a Certificate).
 */
function tlsSteps(ctx: ToolContext): Step[] {
  const { tls } = ctx.config
  if (tls.mode === 'ca') {
    return [checkStep(`namespace ${tls.ca.namespace} present (for the root CA)`, async () => {
      if (await ctx.kube().get({ apiVersion: 'v1', kind: 'Namespace', name: tls.ca.namespace })) return
      throw new RunbookError(`the API server has no namespace ${tls.ca.namespace}, where the root CA's Certificate and Secret go`, { key: 'tls.ca.namespace', hint: 'set tls.ca.namespace to the namespace cert-manager runs in (`kubectl get pods -A | grep cert-manager`)' })
    }, [API_STEP])]
  }
  const { name, kind } = tls.issuer
  const namespaces = kind === 'Issuer' ? [ctx.config.registry.namespace, ...(ctx.config.localstack.enabled ? [ctx.config.localstack.namespace] : [])] : [undefined]
  return namespaces.map((namespace) =>
    checkStep(`${kind} ${namespace ? `${namespace}/` : ''}${name} present (tls.issuer)`, async () => {
      if (await ctx.kube().get({ apiVersion: 'cert-manager.io/v1', kind, name, ...(namespace ? { namespace } : {}) })) return
      throw new RunbookError(`the API server has no ${kind} ${namespace ? `${namespace}/` : ''}${name}, which tls.issuer names for the certificates`, { key: 'tls.issuer', hint: kind === 'Issuer' ? `create it in ${namespace}, or name a ClusterIssuer (tls.issuer.kind)` : 'create it, or set tls.issuer.name to one of `kubectl get clusterissuers`' })
    }, [API_STEP]))
}

function ingressStep(ctx: ToolContext): Step {
  return checkStep('ingress IP known', async (stepCtx) => {
    const { ip, source } = await resolveIngressIp(ctx.config, () => ctx.kube())
    stepCtx.progress(`${ip} (from ${source})`)
  }, [API_STEP])
}

function traefikTimeoutStep(ctx: ToolContext): Step {
  const entryPoint = ctx.config.ingress.entryPoint
  return checkStep(`Traefik ${entryPoint} read timeout allows long uploads`, async (stepCtx) => {
    const ref = { apiVersion: 'helm.cattle.io/v1', kind: 'HelmChartConfig', namespace: 'kube-system', name: 'traefik' }
    // No helm.cattle.io kind at all (not K3s, or the lab): nothing configures Traefik from here, so the default applies.
    const object = await ctx.kube().get(ref).catch((error: unknown) => {
      if (error instanceof KubeError && error.reason === NO_KIND) return undefined
      throw error
    })
    const warning = readTimeoutWarning(configuredReadTimeout(object, entryPoint), entryPoint)
    if (warning) stepCtx.warn(warning)
  }, [API_STEP])
}

function piholeSteps(ctx: ToolContext): Step[] {
  // dns.enabled: false (a Pi-hole down, say) must let everything else converge: its Pi-holes are not asked.
  if (!ctx.config.dns.enabled) return []
  const timeoutMs = ctx.config.timeouts.http.milliseconds
  const retries = retryPolicyFromConfig(ctx.config.retries)
  return ctx.config.dns.piholes.map((pihole, index) => {
    const connector = piholeConnector({ pihole, index, timeoutMs, retries, signal: ctx.signal, shared: ctx.shared })
    // The login is the run's: the tasks after preflight work in it, and the run logs out when it ends.
    // Accepted for what dns does: an app password alone may only read, which dns would find out at its first write.
    return checkStep(`Pi-hole ${connector.label} reachable, password accepted`, async (stepCtx) => {
      const { entries, refusal } = await connector.withSession(async (session) => ({ entries: await session.list(), refusal: await session.writeRefusal() }))
      if (refusal) throw new RunbookError(`Pi-hole ${connector.label}: ${refusal}`, { host: pihole.url, key: `dns.piholes[${index}].password`, hint: appSudoFix(`dns.piholes[${index}]`) })
      stepCtx.progress(`${entries.length} local DNS record(s)`)
    })
  })
}

/**
 * Per node: SSH and root, and the Node node-trust waits on after a restart (by name, or by address), so a wrong host
 * or name is told here. The K3s unit is not asked for: that costs a command on every node in every no-op run, and
 * node-trust asks before its first write on a node anyway.
 */
function nodeSteps(ctx: ToolContext): Step[] {
  return trustNodes(ctx.config, ctx.acceptNewHostKeys).flatMap((node) => {
    const ssh = `node ${node.label}: SSH with a known host key, sudo works`
    return [
      checkStep(ssh, async () => {
        // The session checks the host key against known_hosts and works out sudo (with its password) once.
        const session = await ctx.ssh.session(node.target)
        const result = await session.exec(['id', '-u'])
        if (result.code !== 0 || result.stdout.trim() !== '0') {
          throw new RunbookError(`${node.label}: commands do not run as root (id -u → ${result.stdout.trim() || result.stderr.trim() || `exit ${result.code}`})`, {
            host: node.target.host, key: node.key, hint: `connect as root, or set ${node.key}.sudo: true with ${node.key}.sudoPassword when sudo asks for one`,
          })
        }
      }),
      checkStep(`node ${node.label}: a Node in the cluster`, async (stepCtx) => {
        stepCtx.progress(await resolveNodeName(ctx.kube(), node))
      }),
    ]
  })
}
