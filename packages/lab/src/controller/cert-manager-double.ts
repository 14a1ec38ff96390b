import { createHash, X509Certificate } from 'node:crypto'
import { existsSync, readFileSync, renameSync, writeFileSync } from 'node:fs'
import { LabStateError } from '../errors/lab-state-error.js'
import { objectPath, type ClusterSnapshot } from './cluster-snapshot.js'
import type { ControllerContext } from './controller-context.js'
import { controllerPaths } from './controller-paths.js'
import { describeObject, keyOf, type Certificate, type Condition, type Issuer, type Secret } from './kube-objects.js'
import { carryTransitionTimes, patchStatusIfChanged } from './object-status.js'
import { caSignedCertificate, durationDays, selfSignedCertificate, type CertificateRequest, type KeyPair } from './openssl-certificates.js'

/** cert-manager looks up a ClusterIssuer's Secrets here (its `--cluster-resource-namespace`, default `cert-manager`). */
export const CLUSTER_RESOURCE_NAMESPACE = 'cert-manager'
const SPEC_ANNOTATION = 'lab.homelab-devtools/certificate-spec'

type ResolvedIssuer = { issuer: Issuer; kind: 'ClusterIssuer' | 'Issuer'; secretNamespace: string }

export function resolveIssuer(certificate: Certificate, snapshot: ClusterSnapshot): ResolvedIssuer | undefined {
  const ref = certificate.spec?.issuerRef
  if (!ref?.name) return undefined
  if (ref.kind === 'ClusterIssuer') {
    const issuer = snapshot.clusterIssuers.get(keyOf(undefined, ref.name))
    return issuer && { issuer, kind: 'ClusterIssuer', secretNamespace: CLUSTER_RESOURCE_NAMESPACE }
  }
  const namespace = certificate.metadata.namespace ?? 'default'
  const issuer = snapshot.issuers.get(keyOf(namespace, ref.name))
  return issuer && { issuer, kind: 'Issuer', secretNamespace: namespace }
}

const decode = (secret: Secret | undefined, key: string): string | undefined => {
  const value = secret?.data?.[key]
  return value === undefined ? undefined : Buffer.from(value, 'base64').toString('utf8')
}

/** The CA key pair a CA issuer signs with, from its Secret; undefined while that Secret is not there yet. */
function caKeyPair(resolved: ResolvedIssuer, snapshot: ClusterSnapshot): KeyPair | undefined {
  const secret = snapshot.secrets.get(keyOf(resolved.secretNamespace, resolved.issuer.spec?.ca?.secretName ?? ''))
  const certPem = decode(secret, 'tls.crt')
  const keyPem = decode(secret, 'tls.key')
  return certPem && keyPem ? { certPem, keyPem } : undefined
}

/** Pure. The spec fields that decide what gets issued; the Secret records their hash so only a change reissues. */
export function certificateSpecHash(certificate: Certificate): string {
  const { dnsNames = [], commonName, isCA = false, issuerRef, duration, privateKey } = certificate.spec ?? {}
  const wanted = { dnsNames, commonName, isCA, issuer: [issuerRef?.kind ?? 'Issuer', issuerRef?.name], duration, privateKey }
  return createHash('sha256').update(JSON.stringify(wanted)).digest('hex').slice(0, 32)
}

function certificateRequest(certificate: Certificate): CertificateRequest {
  const spec = certificate.spec ?? {}
  const dnsNames = spec.dnsNames ?? []
  return {
    commonName: spec.commonName ?? dnsNames[0] ?? certificate.metadata.name, dnsNames, isCA: spec.isCA ?? false,
    days: durationDays(spec.duration), algorithm: spec.privateKey?.algorithm, size: spec.privateKey?.size,
  }
}

/** Whether the Secret already holds what this Certificate asks for, signed by the issuer's current CA. */
function secretIsCurrent(certificate: Certificate, secret: Secret | undefined, caPem: string | undefined): boolean {
  const certPem = decode(secret, 'tls.crt')
  if (!certPem || !decode(secret, 'tls.key')) return false
  if (secret?.metadata.annotations?.[SPEC_ANNOTATION] !== certificateSpecHash(certificate)) return false
  if (caPem !== undefined && decode(secret, 'ca.crt') !== caPem) return false
  return new Date(new X509Certificate(certPem).validTo).getTime() > Date.now()
}

/** The Secret cert-manager writes: `kubernetes.io/tls` with tls.crt, tls.key, ca.crt and its annotations. */
function tlsSecret(certificate: Certificate, resolved: ResolvedIssuer, pair: KeyPair, caPem: string): Secret & { type: string } {
  const { name, namespace } = certificate.metadata
  const b64 = (text: string) => Buffer.from(text).toString('base64')
  return {
    apiVersion: 'v1', kind: 'Secret', type: 'kubernetes.io/tls',
    metadata: {
      name: certificate.spec?.secretName ?? '', namespace,
      labels: { 'controller.cert-manager.io/fao': 'true' },
      annotations: {
        'cert-manager.io/alt-names': (certificate.spec?.dnsNames ?? []).join(','),
        'cert-manager.io/certificate-name': name,
        'cert-manager.io/common-name': certificate.spec?.commonName ?? '',
        'cert-manager.io/issuer-group': certificate.spec?.issuerRef?.group ?? 'cert-manager.io',
        'cert-manager.io/issuer-kind': resolved.kind,
        'cert-manager.io/issuer-name': resolved.issuer.metadata.name,
        [SPEC_ANNOTATION]: certificateSpecHash(certificate),
      },
    },
    data: { 'tls.crt': b64(pair.certPem), 'tls.key': b64(pair.keyPem), 'ca.crt': b64(caPem) },
  }
}

async function writeSecret(context: ControllerContext, existing: Secret | undefined, secret: Secret & { type: string }): Promise<void> {
  const { namespace, name } = secret.metadata
  if (existing && existing.type !== secret.type) await context.client.delete(objectPath('Secret', namespace, name)) // type is immutable
  if (existing && existing.type === secret.type) await context.client.mergePatch(objectPath('Secret', namespace, name), secret)
  else await context.client.create(objectPath('Secret', namespace), secret)
}

/** Issues (or not yet: the CA Secret may still be missing) and returns the Ready condition to report. */
async function issueIfNeeded(context: ControllerContext, certificate: Certificate, snapshot: ClusterSnapshot): Promise<Condition> {
  const resolved = resolveIssuer(certificate, snapshot)
  const ref = certificate.spec?.issuerRef
  if (!certificate.spec?.secretName) return { type: 'Ready', status: 'False', reason: 'Invalid', message: 'spec.secretName is not set' }
  if (!resolved) return { type: 'Ready', status: 'False', reason: 'Pending', message: `Issuer ${ref?.kind ?? 'Issuer'} ${ref?.name} does not exist` }
  const ca = resolved.issuer.spec?.ca ? caKeyPair(resolved, snapshot) : undefined
  if (resolved.issuer.spec?.ca && !ca) {
    return { type: 'Ready', status: 'False', reason: 'Pending', message: `Issuer ${resolved.issuer.metadata.name} is not ready: its CA Secret is missing` }
  }
  if (!resolved.issuer.spec?.selfSigned && !ca) {
    return { type: 'Ready', status: 'False', reason: 'Pending', message: `the lab plays only selfSigned and ca issuers, not ${resolved.issuer.metadata.name}'s` }
  }
  const secretKey = keyOf(certificate.metadata.namespace, certificate.spec.secretName)
  const existing = snapshot.secrets.get(secretKey)
  if (!secretIsCurrent(certificate, existing, ca?.certPem)) {
    const request = certificateRequest(certificate)
    const scratch = controllerPaths(context.stateDir).scratch
    const pair = ca ? await caSignedCertificate(request, ca, scratch, context.run) : await selfSignedCertificate(request, scratch, context.run)
    const secret = tlsSecret(certificate, resolved, pair, ca?.certPem ?? pair.certPem)
    await writeSecret(context, existing, secret)
    snapshot.secrets.set(secretKey, secret) // a CA issued in this pass can sign its leaves in the same pass
    context.log.info(`${describeObject(certificate)}: issued ${secret.metadata.namespace}/${secret.metadata.name} (${request.dnsNames.join(',') || request.commonName})`)
  }
  return { type: 'Ready', status: 'True', reason: 'Ready', message: 'Certificate is up to date and has not expired' }
}

function certificateStatus(certificate: Certificate, ready: Condition, snapshot: ClusterSnapshot): Record<string, unknown> {
  const now = new Date().toISOString()
  const conditions = carryTransitionTimes(certificate.status?.conditions, [{ ...ready, observedGeneration: certificate.metadata.generation } as Condition], now)
  const certPem = decode(snapshot.secrets.get(keyOf(certificate.metadata.namespace, certificate.spec?.secretName ?? '')), 'tls.crt')
  if (ready.status !== 'True' || !certPem) return { conditions }
  const x509 = new X509Certificate(certPem)
  const iso = (text: string) => new Date(text).toISOString().replace(/\.\d{3}Z$/, 'Z')
  return { conditions, notBefore: iso(x509.validFrom), notAfter: iso(x509.validTo) }
}

/**
 * Issues every Certificate the lab can issue (self-signed roots first, so their CA issuers can sign in the same
 * pass), writes the CA bundle, and only then reports Ready: whoever waits for Ready finds the bundle in place.
 */
export async function reconcileCertificates(context: ControllerContext, snapshot: ClusterSnapshot): Promise<void> {
  const caFirst = (c: Certificate) => Number(!!resolveIssuer(c, snapshot)?.issuer.spec?.ca)
  const ordered = [...snapshot.certificates].sort((a, b) => caFirst(a) - caFirst(b))
  const outcomes: { certificate: Certificate; ready: Condition }[] = []
  for (const certificate of ordered) {
    const key = `certificate ${describeObject(certificate)}`
    try {
      const ready = await issueIfNeeded(context, certificate, snapshot)
      if (ready.status !== 'True') context.log.once(key, `${describeObject(certificate)}: not issued: ${ready.message}`)
      else context.log.clear(key)
      outcomes.push({ certificate, ready })
    } catch (error) {
      context.log.failure(key, `${describeObject(certificate)}: cannot issue`, error)
    }
  }
  writeCaBundle(context.stateDir, snapshot)
  for (const { certificate, ready } of outcomes) {
    const path = objectPath('Certificate', certificate.metadata.namespace, certificate.metadata.name)
    await patchStatusIfChanged(context.client, path, certificate.status, certificateStatus(certificate, ready, snapshot))
      .catch((error: unknown) => context.log.failure(`certificate status ${path}`, `${describeObject(certificate)}: cannot update status`, error))
  }
  await reconcileIssuerStatuses(context, snapshot)
}

function issuerReady(issuer: Issuer, secretNamespace: string, snapshot: ClusterSnapshot): Condition {
  if (issuer.spec?.selfSigned) return { type: 'Ready', status: 'True', reason: 'IsReady' }
  const secretName = issuer.spec?.ca?.secretName
  if (secretName === undefined) return { type: 'Ready', status: 'False', reason: 'NotSupported', message: 'the lab plays only selfSigned and ca issuers' }
  const ok = caKeyPair({ issuer, kind: 'ClusterIssuer', secretNamespace }, snapshot) !== undefined
  return ok
    ? { type: 'Ready', status: 'True', reason: 'KeyPairVerified', message: 'Signing CA verified' }
    : { type: 'Ready', status: 'False', reason: 'ErrGetKeyPair', message: `Error getting keypair for CA issuer: secret "${secretName}" not found in ${secretNamespace}` }
}

async function reconcileIssuerStatuses(context: ControllerContext, snapshot: ClusterSnapshot): Promise<void> {
  const now = new Date().toISOString()
  const all = [...snapshot.clusterIssuers.values(), ...snapshot.issuers.values()]
  for (const issuer of all) {
    const cluster = issuer.kind === 'ClusterIssuer'
    const ready = issuerReady(issuer, cluster ? CLUSTER_RESOURCE_NAMESPACE : issuer.metadata.namespace ?? 'default', snapshot)
    const path = objectPath(cluster ? 'ClusterIssuer' : 'Issuer', cluster ? undefined : issuer.metadata.namespace, issuer.metadata.name)
    const desired = { conditions: carryTransitionTimes(issuer.status?.conditions, [{ ...ready, observedGeneration: issuer.metadata.generation } as Condition], now) }
    await patchStatusIfChanged(context.client, path, issuer.status, desired)
      .catch((error: unknown) => context.log.failure(`issuer ${path}`, `${describeObject(issuer)}: cannot update status`, error))
  }
}

/** Pure. The certificates of every self-signed CA the lab issued, sorted, for clients that must trust them. */
export function selfSignedCaPems(snapshot: ClusterSnapshot): string[] {
  const pems = snapshot.certificates
    .filter((c) => c.spec?.isCA && resolveIssuer(c, snapshot)?.issuer.spec?.selfSigned)
    .map((c) => decode(snapshot.secrets.get(keyOf(c.metadata.namespace, c.spec?.secretName ?? '')), 'tls.crt'))
    .filter((pem): pem is string => pem !== undefined)
  return [...new Set(pems)].sort()
}

function writeCaBundle(stateDir: string, snapshot: ClusterSnapshot): void {
  const file = controllerPaths(stateDir).caBundle
  const bundle = selfSignedCaPems(snapshot).map((pem) => pem.trimEnd()).join('\n')
  const text = bundle === '' ? '' : `${bundle}\n`
  if (existsSync(file) && readFileSync(file, 'utf8') === text) return
  writeFileSync(`${file}.tmp`, text)
  renameSync(`${file}.tmp`, file)
}

/**
 * The CA certificates (PEM) the lab's cert-manager issued as self-signed roots: what a client must trust to reach
 * the lab's Traefik. Throws when none has been issued yet (apply the CA Certificate and wait for it to be Ready).
 */
export function labCaBundle(stateDir: string): string {
  const file = controllerPaths(stateDir).caBundle
  const text = existsSync(file) ? readFileSync(file, 'utf8') : ''
  if (text === '') {
    throw new LabStateError(`the lab has issued no CA yet (${file} is empty)`, {
      path: file, hint: 'apply a selfSigned ClusterIssuer and an isCA Certificate, wait for it to be Ready; is the lab controller running (`pnpm lab status`)?',
    })
  }
  return text
}
