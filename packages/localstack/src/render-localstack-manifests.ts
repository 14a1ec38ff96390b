import type { HomelabConfig, KubeObject } from '@homelab/core'
import { renderAuthTokenSecret, renderNamespace, renderService, renderStateVolumeClaim } from './render-localstack-objects.js'
import { renderDeployment } from './render-localstack-deployment.js'
import { renderCertificate, renderIngressRoute, renderS3VirtualHostRoute } from './render-localstack-ingress.js'
import { renderHealthProbe } from './render-localstack-probe.js'
import { sortKeys, validateManifest } from './validate-manifest.js'

/** Every object, validated and key-sorted; optional ones are undefined when the config does not ask for them. */
export type LocalstackManifests = {
  namespace: KubeObject
  authTokenSecret: KubeObject | undefined
  stateVolumeClaim: KubeObject
  deployment: KubeObject
  service: KubeObject
  certificate: KubeObject
  ingressRoute: KubeObject
  s3VirtualHostRoute: KubeObject | undefined
  healthProbe: KubeObject | undefined
}

const checked = (object: KubeObject) => sortKeys(validateManifest(object))
const checkedOptional = (object: KubeObject | undefined) => (object === undefined ? undefined : checked(object))

/** Pure apart from reading manifests/localstack: the same config always gives the same objects. */
export function renderLocalstackManifests(config: HomelabConfig): LocalstackManifests {
  const localstack = config.localstack
  return {
    namespace: checked(renderNamespace(localstack)),
    authTokenSecret: checkedOptional(renderAuthTokenSecret(localstack)),
    stateVolumeClaim: checked(renderStateVolumeClaim(localstack)),
    deployment: checked(renderDeployment(localstack)),
    service: checked(renderService(localstack)),
    certificate: checked(renderCertificate(config)),
    ingressRoute: checked(renderIngressRoute(config)),
    s3VirtualHostRoute: checkedOptional(renderS3VirtualHostRoute(config)),
    healthProbe: checkedOptional(renderHealthProbe(config)),
  }
}
