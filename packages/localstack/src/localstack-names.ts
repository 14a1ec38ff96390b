/** Names of the objects this package owns, in the namespace from `localstack.namespace`. */
export const NAMES = {
  app: 'localstack',
  deployment: 'localstack',
  container: 'localstack',
  service: 'localstack',
  pvc: 'localstack-state',
  authTokenSecret: 'localstack-auth-token',
  authTokenKey: 'token',
  certificate: 'localstack',
  tlsSecret: 'localstack-tls',
  ingressRoute: 'localstack',
  s3VirtualHostRoute: 'localstack-s3-virtual-host',
  probe: 'localstack-health',
} as const

export const GATEWAY_PORT = 4566

/** `localstack/localstack:4.14.0` → `4.14.0`: what `/_localstack/health` must report as its version. */
export function imageVersion(image: string): string {
  const withoutDigest = image.split('@')[0] ?? image
  const colon = withoutDigest.lastIndexOf(':')
  return colon > withoutDigest.lastIndexOf('/') ? withoutDigest.slice(colon + 1) : 'latest'
}
