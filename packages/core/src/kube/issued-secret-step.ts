import { KubeError } from '../errors/kube-error.js'
import type { Step } from '../step.js'
import { NO_KIND, type KubeClient } from './kube-client.js'
import { describeRef, refOf, type KubeObject, type ObjectRef } from './kube-object.js'
import { isOurs } from './remove-step.js'

/** cert-manager writes this on every Secret it issues, naming the Certificate (in the Secret's own namespace). */
export const CERTIFICATE_NAME_ANNOTATION = 'cert-manager.io/certificate-name'

/** cert-manager writes the Certificate's DNS names on the Secret, comma-separated, and its common name. */
const ALT_NAMES_ANNOTATION = 'cert-manager.io/alt-names'
const COMMON_NAME_ANNOTATION = 'cert-manager.io/common-name'

/** What our Certificate asked to be issued for: DNS names, or for a CA (no DNS names) its common name. */
export type IssuedNames = { dnsNames: readonly string[]; commonName: string | undefined }

/**
 * The Secret cert-manager issued for a Certificate the config no longer wants, and the names ours asked for. `live`:
 * the names the Certificate itself held when its removal step, in this run, found it (see certificateWitness).
 */
export type IssuedSecret = { certificate: ObjectRef & { namespace: string }; secret: ObjectRef & { namespace: string }; names: IssuedNames; because: string; live?: CertificateWitness }

/**
 * What a Certificate of ours asked to be issued for, as the step removing it found it just before. The config that
 * switches a feature off may also rename its host (a new `domain`): the Secret was issued for the old names, which
 * the config no longer renders and only the live Certificate still held. Hand `seen` to the removal step (removeStep's
 * option) and the witness to the Secret's (IssuedSecret.live), which runs after it.
 */
export type CertificateWitness = { seen(certificate: KubeObject): void; names(): IssuedNames | undefined }

export function certificateWitness(): CertificateWitness {
  let names: IssuedNames | undefined
  return {
    seen(certificate) {
      const spec = certificate['spec'] as { dnsNames?: string[]; commonName?: string } | undefined
      names = { dnsNames: spec?.dnsNames ?? [], commonName: spec?.commonName }
    },
    names: () => names,
  }
}

/** Pure. The Secret a Certificate object names (spec.secretName), as removing the Certificate for `because` leaves it. */
export function issuedSecretOf(certificate: KubeObject, because: string): IssuedSecret[] {
  const { namespace } = certificate.metadata
  const spec = certificate['spec'] as { secretName?: string; dnsNames?: string[]; commonName?: string } | undefined
  const secretName = spec?.secretName
  if (certificate.kind !== 'Certificate' || !namespace || !secretName) return []
  return [{ certificate: { ...refOf(certificate), namespace }, secret: { apiVersion: 'v1', kind: 'Secret', namespace, name: secretName }, names: { dnsNames: spec?.dnsNames ?? [], commonName: spec?.commonName }, because }]
}

/** Pure: cert-manager's annotation names this Certificate, and the Secret is in the Certificate's namespace. */
export function issuedFor(secret: KubeObject, certificate: ObjectRef): boolean {
  return secret.metadata.namespace === certificate.namespace && secret.metadata.annotations?.[CERTIFICATE_NAME_ANNOTATION] === certificate.name
}

/**
 * Pure: the Secret was issued for every DNS name ours asks for (cert-manager's alt-names annotation). "Every", not
 * "exactly": the config that switches a feature off may also have dropped a name the live Certificate still had. A
 * CA's Certificate has no DNS names: then its common name must match.
 */
export function issuedForNames(secret: KubeObject, names: IssuedNames): boolean {
  const annotations = secret.metadata.annotations ?? {}
  if (names.dnsNames.length === 0) return names.commonName !== undefined && names.commonName !== '' && annotations[COMMON_NAME_ANNOTATION] === names.commonName
  const issued = new Set((annotations[ALT_NAMES_ANNOTATION] ?? '').split(',').filter(Boolean))
  return names.dnsNames.every((name) => issued.has(name))
}

/** How a Secret's or a Certificate's names read in a message. */
const describeNames = (dnsNames: string, commonName: string | undefined) => dnsNames || (commonName ? `common name ${commonName}` : 'no names on record')

/**
 * cert-manager keeps a Certificate's Secret when the Certificate is deleted. removeStep's test for "ours" (our
 * label and field manager) cannot fit it: cert-manager wrote it. So it is judged by its link to our Certificate: the
 * annotation names it, in the same namespace, and that Certificate is ours (about to be removed, under --plan) or is
 * gone and the Secret was issued for our Certificate's DNS names: a Certificate of the same name someone else
 * had there once (their own LocalStack in a `localstack` namespace) was for other names. A Secret of that name issued
 * for another Certificate, or for a same-named one someone else keeps, stays.
 * Runs after the Certificate's removal (`after`, not `needs`: a removal skipped because the Certificate was already
 * gone must not strand the Secret): while the Certificate exists, cert-manager would issue the Secret again.
 */
export function issuedSecretStep(kube: KubeClient, issued: IssuedSecret, options: { after: readonly string[] }): Step<KubeObject | undefined, 'delete', null> {
  const secretName = describeRef(issued.secret)
  const certificateName = describeRef(issued.certificate)
  return {
    name: `remove ${secretName}`,
    after: options.after,
    check: async (ctx) => {
      const [certificate, secret] = await Promise.all([kube.get(issued.certificate).catch(absentWhenNoKind), kube.get(issued.secret)])
      if (!secret) return undefined
      if (!issuedFor(secret, issued.certificate)) {
        ctx.warn(`${secretName} is there but cert-manager did not issue it for ${certificateName}: left alone (${issued.because})`)
        return undefined
      }
      if (certificate && !isOurs(certificate, kube.fieldManager)) {
        ctx.warn(`${secretName} belongs to ${certificateName}, which this tool did not make: left alone (${issued.because})`)
        return undefined
      }
      const live = issued.live?.names()
      if (!certificate && !issuedForNames(secret, issued.names) && !(live && issuedForNames(secret, live))) {
        const annotations = secret.metadata.annotations ?? {}
        const theirs = describeNames(annotations[ALT_NAMES_ANNOTATION] ?? '', annotations[COMMON_NAME_ANNOTATION])
        const ours = describeNames(issued.names.dnsNames.join(','), issued.names.commonName)
        ctx.warn(`${secretName} was issued for ${theirs}, not ${ours}: not known to be ours, left alone (${issued.because})`)
        return undefined
      }
      if (certificate && !ctx.plan) {
        ctx.warn(`${certificateName} is still there, so cert-manager would issue ${secretName} again: left for the next run`)
        return undefined
      }
      return secret
    },
    desired: () => null,
    diff: (secret) => (secret ? ['delete'] : []),
    describe: () => ({ summary: `delete ${secretName} (cert-manager issued it for ${certificateName}; ${issued.because})` }),
    apply: async () => void (await kube.delete(issued.secret)),
  }
}

// Without cert-manager's CRDs there is no Certificate left to issue it again.
function absentWhenNoKind(error: unknown): undefined {
  if (error instanceof KubeError && error.reason === NO_KIND) return undefined
  throw error
}
