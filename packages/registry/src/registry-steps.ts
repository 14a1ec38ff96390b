import { certificateWitness, checkStep, describeRef, HomelabError, issuedSecretStep, refOf, removeStep, type HomelabConfig, type KubeClient, type KubeObject, type Step, applyStep, ObservedObjects } from '@homelab/core'
import { GcError } from './errors/gc-error.js'
import { GC_COMPONENT } from './gc/gc-job.js'
import { oldAuthSecretsStep } from './old-auth-secrets-step.js'
import { pvcStep } from './pvc-step.js'
import { certificateReadiness, deploymentReadiness, waitStep } from './readiness-steps.js'
import type { RegistryCredentials } from './registry-credentials.js'
import { SECRET_ROLES } from './registry-names.js'
import type { RegistryObjects } from './render-registry-objects.js'

export type RegistryStepOptions = { force: boolean; timeouts: HomelabConfig['timeouts']; caNamespace: string }

const stepName = (object: KubeObject) => `apply ${describeRef(refOf(object))}`

/**
 * The registry's steps in dependency order: namespace → secrets and config → workloads; CA chain → certificates →
 * routes; then waits. `needs` lets independent objects go in parallel while a failure skips only what depends on it.
 */
export function registrySteps(kube: KubeClient, objects: RegistryObjects, credentials: RegistryCredentials, options: RegistryStepOptions): Step[] {
  const { force } = options
  // What the apply steps of the objects waited for at the end read: a no-op run waits without reading them again.
  const observed = new ObservedObjects()
  const apply = (object: KubeObject, needs: KubeObject[] = [], extra: { skipWhenKindMissing?: string } = {}) =>
    applyStep(kube, object, { force, needs: needs.map(stepName), ...(WAITED_FOR.has(object.kind) ? { observed } : {}), ...extra })
  const { namespace: ns, caChain, ui } = objects
  const issuerNeeds = caChain ? [caChain.caIssuer] : []
  const noGc = noGarbageCollectStep(kube, ns.metadata.name, [stepName(ns)])
  // What sets the registry's mode and restarts it waits until no garbage-collect is sweeping.
  const afterGc = (step: Step): Step => ({ ...step, needs: [...(step.needs ?? []), noGc.name] })
  const steps: Step[] = [
    apply(ns),
    noGc,
    apply(credentials.credentialsSecret, [ns]),
    apply(credentials.httpSecret, [ns]),
    apply(credentials.htpasswdSecret, [ns]),
    afterGc(apply(objects.configMap, [ns])),
    pvcStep(kube, objects.pvc, { force, needs: [stepName(ns)] }),
    afterGc(apply(objects.deployment, [ns, objects.configMap, credentials.httpSecret, credentials.htpasswdSecret, objects.pvc])),
    apply(objects.service, [ns]),
    ...(caChain
      ? [apply(caChain.selfSignedIssuer), rootCertificateStep(kube, caChain, { ...options, observed }), apply(caChain.caIssuer, [caChain.rootCertificate])]
      : []),
    apply(objects.certificate, [ns, ...issuerNeeds]),
    apply(objects.route, [objects.certificate, objects.service]),
    ...(ui
      ? [
          apply(ui.deployment, [ns]),
          apply(ui.service, [ns]),
          apply(ui.certificate, [ns, ...issuerNeeds]),
          apply(ui.route, [ui.certificate, ui.service, objects.service]),
        ]
      : []),
    ...(objects.serviceMonitor
      ? [apply(objects.serviceMonitor, [ns, objects.service], { skipWhenKindMissing: 'the ServiceMonitor CRD is not installed (no Prometheus operator); metrics are still served on :5001' })]
      : []),
    apply(objects.localRegistryHosting),
    ...retiredSteps(kube, objects),
    oldAuthSecretsStep(kube, {
      namespace: ns.metadata.name,
      configured: [
        {
          role: SECRET_ROLES.credentials,
          name: credentials.credentialsSecret.metadata.name,
          key: 'registry.auth.credentialsSecretName',
          data: (credentials.credentialsSecret['data'] ?? {}) as Record<string, string>,
        },
        { role: SECRET_ROLES.htpasswd, name: credentials.htpasswdSecret.metadata.name, key: 'registry.auth.secretName' },
      ],
      deployment: refOf(objects.deployment),
      rolloutTimeout: options.timeouts.rollout,
      needs: [credentials.credentialsSecret, credentials.htpasswdSecret, objects.deployment].map(stepName),
    }),
  ]
  return [...steps, ...readinessSteps(kube, objects, { ...options, observed })]
}

/** What the config switched off, and after each retired Certificate the Secret cert-manager issued for it. */
function retiredSteps(kube: KubeClient, objects: RegistryObjects): Step[] {
  const witnesses = new Map(objects.retiredIssuedSecrets.map((i) => [describeRef(i.certificate), certificateWitness()]))
  const removals = objects.retired.map(({ ref, because }) => {
    const witness = witnesses.get(describeRef(ref))
    return { ref: describeRef(ref), step: removeStep(kube, ref, { because, ...(witness ? { seen: witness.seen } : {}) }) }
  })
  const removalOf = (ref: string) => removals.filter((r) => r.ref === ref).map((r) => r.step.name)
  const issued = objects.retiredIssuedSecrets.map((i) => issuedSecretStep(kube, { ...i, live: witnesses.get(describeRef(i.certificate))! }, { after: removalOf(describeRef(i.certificate)) }))
  return [...removals.map((r) => r.step), ...issued]
}

/** What readinessSteps waits for. */
const WAITED_FOR = new Set(['Deployment', 'Certificate'])

/**
 * gc switches the registry to read-only and sweeps blobs in a Job. A gc run that died (a dropped SSH session, a second
 * Ctrl-C) can leave that Job sweeping; a bootstrap that then renders the registry read-write and restarts it takes
 * pushes of layers being deleted, and an image pushed then is broken. So bootstrap waits for the sweep to end.
 */
function noGarbageCollectStep(kube: KubeClient, namespace: string, needs: readonly string[]): Step {
  return checkStep('no registry garbage-collect running', async () => {
    const pods = await kube.list('v1', 'Pod', { namespace, labelSelector: `app.kubernetes.io/component=${GC_COMPONENT}` })
    const running = pods.filter((p) => !['Succeeded', 'Failed'].includes((p['status'] as { phase?: string } | undefined)?.phase ?? ''))
    if (running.length === 0) return
    throw new GcError(`garbage-collect is still running in ${namespace} (${running.map((p) => p.metadata.name).join(', ')}): the registry stays as it is until it ends`, {
      hint: `wait for it (kubectl -n ${namespace} get pods -l app.kubernetes.io/component=${GC_COMPONENT}), then run \`pnpm --filter registry run gc\` again: it puts the registry back to read-write itself`,
    })
  }, needs)
}

/** The root CA lives in cert-manager's namespace, which this tool must not create or label: it belongs to cert-manager. */
function rootCertificateStep(kube: KubeClient, caChain: NonNullable<RegistryObjects['caChain']>, options: RegistryStepOptions & { observed: ObservedObjects }): Step {
  const inner = applyStep(kube, caChain.rootCertificate, { force: options.force, needs: [stepName(caChain.selfSignedIssuer)], observed: options.observed })
  return {
    ...inner,
    check: async (ctx) => {
      if (!(await kube.get({ apiVersion: 'v1', kind: 'Namespace', name: options.caNamespace }))) {
        throw new HomelabError(`namespace ${options.caNamespace} does not exist, so the root CA certificate has nowhere to live`, {
          host: kube.server,
          key: 'tls.ca.namespace',
          hint: `install cert-manager first (it creates ${options.caNamespace}), or point tls.ca.namespace at cert-manager's namespace`,
        })
      }
      return inner.check(ctx)
    },
  }
}

function readinessSteps(kube: KubeClient, objects: RegistryObjects, options: RegistryStepOptions & { observed: ObservedObjects }): Step[] {
  const certificates = [...(objects.caChain ? [objects.caChain.rootCertificate] : []), objects.certificate, ...(objects.ui ? [objects.ui.certificate] : [])]
  const deployments = [objects.deployment, ...(objects.ui ? [objects.ui.deployment] : [])]
  return [
    waitStep(kube, certificates.map(refOf), certificateReadiness, {
      name: 'wait for the registry certificates to be Ready',
      needs: certificates.map(stepName),
      timeout: options.timeouts.certificate,
      observed: options.observed,
      hint: 'check cert-manager: kubectl describe certificate -A (tls.mode, tls.issuer); raise timeouts.certificate if it is only slow',
    }),
    ...deployments.map((deployment) =>
      waitStep(kube, [refOf(deployment)], deploymentReadiness, {
        name: `wait for ${describeRef(refOf(deployment))} to be available`,
        needs: [stepName(deployment)],
        timeout: options.timeouts.rollout,
        observed: options.observed,
        hint: `check the pod: kubectl -n ${deployment.metadata.namespace} describe deployment ${deployment.metadata.name}; raise timeouts.rollout if it is only slow`,
      }),
    ),
  ]
}
