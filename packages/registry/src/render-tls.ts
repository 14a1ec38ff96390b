import type { HomelabConfig, KubeObject } from '@homelab/core'
import type { ICertificate } from '@kubernetes-models/cert-manager/cert-manager.io/v1/Certificate'
import type { IClusterIssuer } from '@kubernetes-models/cert-manager/cert-manager.io/v1/ClusterIssuer'
import { MANIFEST_FILES, readManifest } from './manifest-files.js'
import { finishObject, setName, setNamespace } from './object-edits.js'
import type { AppName } from './registry-names.js'

type TlsConfig = HomelabConfig['tls']

/** tls.mode ca: self-signed issuer → root CA certificate → CA issuer, the bootstrap cert-manager documents. */
export type CaChain = { selfSignedIssuer: KubeObject; rootCertificate: KubeObject; caIssuer: KubeObject }

export function renderCaChain(tls: TlsConfig): CaChain {
  const { ca } = tls
  const selfSigned = setName(readManifest<IClusterIssuer>(MANIFEST_FILES.selfSignedIssuer), ca.selfSignedIssuer)
  const root = setNamespace(setName(readManifest<ICertificate>(MANIFEST_FILES.rootCaCertificate), ca.certificate), ca.namespace)
  root.spec!.commonName = ca.commonName
  root.spec!.secretName = ca.secretName
  root.spec!.issuerRef = { ...root.spec!.issuerRef, name: ca.selfSignedIssuer, kind: 'ClusterIssuer' }
  const caIssuer = setName(readManifest<IClusterIssuer>(MANIFEST_FILES.caIssuer), ca.issuer)
  caIssuer.spec!.ca = { secretName: ca.secretName }
  return { selfSignedIssuer: finishObject(selfSigned, 'homelab-ca'), rootCertificate: finishObject(root, 'homelab-ca'), caIssuer: finishObject(caIssuer, 'homelab-ca') }
}

/**
 * A certificate for one host, whose Secret has the same name (Traefik reads it from the IngressRoute's namespace).
 * `tls.issuer` is the CA issuer in ca mode and the configured existing issuer in acme mode.
 */
export function renderHostCertificate(options: { tls: TlsConfig; namespace: string; name: string; host: string; app: AppName }): KubeObject {
  const certificate = setNamespace(setName(readManifest<ICertificate>(MANIFEST_FILES.hostCertificate), options.name), options.namespace)
  certificate.spec!.secretName = options.name
  certificate.spec!.dnsNames = [options.host]
  certificate.spec!.issuerRef = { name: options.tls.issuer.name, kind: options.tls.issuer.kind, group: 'cert-manager.io' }
  return finishObject(certificate, options.app)
}
