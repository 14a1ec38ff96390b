import { applyStep, claimStep, removeStep, type KubeObject, type Step, type ToolContext } from '@homelab/core'
import { deploymentReadyStep } from './deployment-ready-step.js'
import { dockerSocketStep } from './docker-socket-step.js'
import { editionStep } from './localstack-edition.js'
import { NAMES } from './localstack-names.js'
import { renderLocalstackManifests } from './render-localstack-manifests.js'

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

const STATE_MIGRATION =
  'scale Deployment localstack to 0, create a claim with the new size/class under another name, copy /var/lib/localstack ' +
  'into it (a Job mounting both), delete the old claim, recreate it from the copy, then re-run bootstrap'

/** Edition first, then the namespace, then everything in it; the wait needs the Deployment and what it mounts. */
export function localstackBootstrapSteps(ctx: ToolContext): Step<any, any, any>[] {
  const { config } = ctx
  if (!config.localstack.enabled) return [editionStep(config)]
  const m = renderLocalstackManifests(config)
  const kube = ctx.kube()
  const apply = (name: string, object: KubeObject, needs: readonly string[], skipWhenKindMissing?: string) =>
    applyStep(kube, object, { force: ctx.forceConflicts, name, needs, ...(skipWhenKindMissing ? { skipWhenKindMissing } : {}) })
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
      : retired(STEP.authToken, { apiVersion: 'v1', kind: 'Secret', name: NAMES.authTokenSecret }, 'community edition: no token', 'localstack.edition is community'),
    claimStep(kube, m.stateVolumeClaim, { force: ctx.forceConflicts, name: STEP.pvc, needs: inNamespace, configKey: 'localstack.storage', holds: "LocalStack's persisted state", migration: STATE_MIGRATION }),
    apply(STEP.deployment, m.deployment, deploymentNeeds),
    apply(STEP.service, m.service, inNamespace),
    apply(STEP.certificate, m.certificate, inNamespace),
    apply(STEP.ingressRoute, m.ingressRoute, [...inNamespace, STEP.service, STEP.certificate]),
    m.s3VirtualHostRoute
      ? apply(STEP.s3VirtualHostRoute, m.s3VirtualHostRoute, [...inNamespace, STEP.service, STEP.certificate])
      : retired(STEP.s3VirtualHostRoute, { apiVersion: 'traefik.io/v1alpha1', kind: 'IngressRoute', name: NAMES.s3VirtualHostRoute }, 'path-style S3 (localstack.s3.virtualHostStyle is false)', 'localstack.s3.virtualHostStyle is false'),
    m.healthProbe
      ? apply(STEP.probe, m.healthProbe, [...inNamespace, STEP.ingressRoute], 'the Prometheus-operator Probe CRD is not installed; install the Prometheus operator to monitor LocalStack')
      : retired(STEP.probe, { apiVersion: 'monitoring.coreos.com/v1', kind: 'Probe', name: NAMES.probe }, 'no localstack.probe.blackboxExporter configured; set it to the blackbox exporter host:port to probe /_localstack/health', 'no localstack.probe.blackboxExporter'),
    deploymentReadyStep(kube, { namespace: config.localstack.namespace, name: NAMES.deployment }, { timeoutMs: config.timeouts.localstackReady.milliseconds, needs: [STEP.deployment] }),
  ]
}
