import { applyStep, certificateWitness, checkStep, claimStep, issuedSecretOf, issuedSecretStep, isOurs, ObservedObjects, removeStep, StepSkipped, type KubeObject, type Step, type ToolContext } from '@homelab/core'
import { deploymentReadyStep } from './deployment-ready-step.js'
import { dockerSocketStep } from './docker-socket-step.js'
import { editionStep } from './localstack-edition.js'
import { NAMES } from './localstack-names.js'
import { renderLocalstackManifests, type LocalstackManifests } from './render-localstack-manifests.js'

const STEP = {
  edition: 'localstack edition',
  dockerSocket: 'localstack docker socket on nodes',
  namespace: 'localstack namespace',
  authToken: 'localstack auth token secret',
  pvc: 'localstack state volume',
  deployment: 'localstack deployment',
  service: 'localstack service',
  certificate: 'localstack certificate',
  ingressRoute: 'localstack ingress route',
  s3VirtualHostRoute: 'localstack s3 virtual-host route',
  probe: 'localstack health probe',
} as const

type ObjectName = { apiVersion: string; kind: string; name: string }

/**
 * Everything bootstrap makes that goes when LocalStack is switched off, keyed like the render so a new object there
 * does not compile until it has a way out here. The namespace and the state claim are not in it: they stay.
 */
const REMOVABLE: Record<Exclude<keyof LocalstackManifests, 'namespace' | 'stateVolumeClaim'>, { step: string; ref: ObjectName }> = {
  healthProbe: { step: STEP.probe, ref: { apiVersion: 'monitoring.coreos.com/v1', kind: 'Probe', name: NAMES.probe } },
  s3VirtualHostRoute: { step: STEP.s3VirtualHostRoute, ref: { apiVersion: 'traefik.io/v1alpha1', kind: 'IngressRoute', name: NAMES.s3VirtualHostRoute } },
  ingressRoute: { step: STEP.ingressRoute, ref: { apiVersion: 'traefik.io/v1alpha1', kind: 'IngressRoute', name: NAMES.ingressRoute } },
  certificate: { step: STEP.certificate, ref: { apiVersion: 'cert-manager.io/v1', kind: 'Certificate', name: NAMES.certificate } },
  service: { step: STEP.service, ref: { apiVersion: 'v1', kind: 'Service', name: NAMES.service } },
  deployment: { step: STEP.deployment, ref: { apiVersion: 'apps/v1', kind: 'Deployment', name: NAMES.deployment } },
  authTokenSecret: { step: STEP.authToken, ref: { apiVersion: 'v1', kind: 'Secret', name: NAMES.authTokenSecret } },
}

/** Pure. What switching LocalStack off removes, as namespaced refs in removal order: what routes to the pod first. */
export function switchedOffRefs(namespace: string): ({ namespace: string } & ObjectName)[] {
  return Object.values(REMOVABLE).map(({ ref }) => ({ ...ref, namespace }))
}

const STATE_MIGRATION =
  'scale Deployment localstack to 0, create a claim with the new size/class under another name, copy /var/lib/localstack ' +
  'into it (a Job mounting both), delete the old claim, recreate it from the copy, then re-run bootstrap'

/** Edition first, then the namespace, then everything in it; the wait needs the Deployment and what it mounts. */
export function localstackBootstrapSteps(ctx: ToolContext): Step<any, any, any>[] {
  const { config } = ctx
  if (!config.localstack.enabled) return switchedOffSteps(ctx)
  const m = renderLocalstackManifests(config)
  const kube = ctx.kube()
  // The Deployment as its apply step read it, for the wait at the end: a no-op run waits without reading again.
  const observed = new ObservedObjects()
  const apply = (name: string, object: KubeObject, needs: readonly string[], skipWhenKindMissing?: string) =>
    applyStep(kube, object, { force: ctx.forceConflicts, name, needs, ...(object === m.deployment ? { observed } : {}), ...(skipWhenKindMissing ? { skipWhenKindMissing } : {}) })
  const inNamespace = [STEP.edition, STEP.namespace]
  // Only a host socket is a fact about the nodes; the dind sidecar brings its own engine.
  // An optional piece the config does not ask for: skipped with its reason, and removed when an earlier config made it.
  const retired = (name: string, ref: { apiVersion: string; kind: string; name: string }, reason: string, because: string) =>
    removeStep(kube, { ...ref, namespace: config.localstack.namespace }, { name, because, skipWhenAbsent: reason, needs: inNamespace })
  const hostSocket = config.localstack.services.includes('lambda') && config.localstack.lambda.executor === 'host-socket'
  const deploymentNeeds = [...inNamespace, STEP.pvc, ...(hostSocket ? [STEP.dockerSocket] : []), ...(m.authTokenSecret ? [STEP.authToken] : [])]
  return [
    editionStep(config),
    ...(hostSocket ? [dockerSocketStep({ config, ssh: ctx.ssh, acceptNewHostKeys: ctx.acceptNewHostKeys })] : []),
    apply(STEP.namespace, m.namespace, [STEP.edition]),
    m.authTokenSecret
      ? apply(STEP.authToken, m.authTokenSecret, inNamespace)
      : retired(STEP.authToken, REMOVABLE.authTokenSecret.ref, 'community edition: no token', 'localstack.edition is community'),
    claimStep(kube, m.stateVolumeClaim, { force: ctx.forceConflicts, name: STEP.pvc, needs: inNamespace, configKey: 'localstack.storage', holds: "LocalStack's persisted state", migration: STATE_MIGRATION }),
    apply(STEP.deployment, m.deployment, deploymentNeeds),
    apply(STEP.service, m.service, inNamespace),
    apply(STEP.certificate, m.certificate, inNamespace),
    apply(STEP.ingressRoute, m.ingressRoute, [...inNamespace, STEP.service, STEP.certificate]),
    m.s3VirtualHostRoute
      ? apply(STEP.s3VirtualHostRoute, m.s3VirtualHostRoute, [...inNamespace, STEP.service, STEP.certificate])
      : retired(STEP.s3VirtualHostRoute, REMOVABLE.s3VirtualHostRoute.ref, 'path-style S3 (localstack.s3.virtualHostStyle is false)', 'localstack.s3.virtualHostStyle is false'),
    m.healthProbe
      ? apply(STEP.probe, m.healthProbe, [...inNamespace, STEP.ingressRoute], 'the Prometheus-operator Probe CRD is not installed; install the Prometheus operator to monitor LocalStack')
      : retired(STEP.probe, REMOVABLE.healthProbe.ref, 'no localstack.probe.blackboxExporter configured; set it to the blackbox exporter host:port to probe /_localstack/health', 'no localstack.probe.blackboxExporter'),
    deploymentReadyStep(kube, { namespace: config.localstack.namespace, name: NAMES.deployment }, { timeoutMs: config.timeouts.localstackReady.milliseconds, needs: [STEP.deployment], observed }),
  ]
}

/**
 * `localstack.enabled: false` switches LocalStack off: what bootstrap made is removed when it is ours (someone else's
 * object of the same name stays, with a warning), and a second run has nothing left to do. The state claim and the
 * namespace stay: the claim is data, and the tool drops data only when asked (teardown --delete-data). The TLS Secret
 * cert-manager issued for our Certificate goes after it (judged by cert-manager's annotation, as it is not ours by
 * label and manager). No step needs the edition step, which is skipped here (a skipped need would skip them all).
 */
function switchedOffSteps(ctx: ToolContext): Step<any, any, any>[] {
  const { config } = ctx
  const { namespace } = config.localstack
  const kube = ctx.kube()
  const off = 'localstack.enabled is false'
  const claim = { apiVersion: 'v1', kind: 'PersistentVolumeClaim', namespace, name: NAMES.pvc }
  // The names the live Certificate held, for its Secret's step: a new `domain` in the same edit renders other ones.
  const certificate = certificateWitness()
  return [
    editionStep(config),
    ...Object.values(REMOVABLE).map(({ step, ref }) => removeStep(kube, { ...ref, namespace }, { name: step, because: off, skipWhenAbsent: off, ...(ref.kind === 'Certificate' ? { seen: certificate.seen } : {}) })),
    ...issuedSecretOf(renderLocalstackManifests(config).certificate, off).map((issued) => issuedSecretStep(kube, { ...issued, live: certificate }, { after: [STEP.certificate] })),
    checkStep(STEP.pvc, async () => {
      const current = await kube.get(claim)
      if (!current || !isOurs(current, kube.fieldManager)) throw new StepSkipped(off)
      throw new StepSkipped(
        `${off}; kept: it holds LocalStack's state. Delete it by hand (kubectl -n ${namespace} delete pvc ${NAMES.pvc}), ` +
          'or with every component\'s data by pnpm teardown --delete-data',
      )
    }),
  ]
}
