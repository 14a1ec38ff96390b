import { randomBytes } from 'node:crypto'
import { mkdirSync, mkdtempSync, readFileSync, rmSync, writeFileSync } from 'node:fs'
import { join } from 'node:path'
import { LabStateError } from '../errors/lab-state-error.js'
import { runProgram, type RunProgram } from '../run-program.js'

export type KeyPair = { certPem: string; keyPem: string }

export type CertificateRequest = {
  commonName: string
  dnsNames: readonly string[]
  isCA: boolean
  days: number
  /** cert-manager's `spec.privateKey`: RSA (default, 2048), ECDSA (256/384) or Ed25519. */
  algorithm?: string
  size?: number
}

const DNS_NAME = /^(\*\.)?[a-z0-9]([a-z0-9-]{0,62})(\.[a-z0-9]([a-z0-9-]{0,62}))*$/i
const COMMON_NAME = /^[\w .*@-]{1,64}$/

/** Pure. The openssl config of one request; refuses names that could smuggle lines into it. */
export function opensslConfig(request: CertificateRequest): string {
  const bad = request.dnsNames.find((name) => !DNS_NAME.test(name))
  if (bad !== undefined) throw new LabStateError(`"${bad}" is not a DNS name the lab can put in a certificate`, { hint: 'fix spec.dnsNames' })
  if (!COMMON_NAME.test(request.commonName)) {
    throw new LabStateError(`"${request.commonName}" is not a common name the lab can put in a certificate`, { hint: 'fix spec.commonName' })
  }
  const usage = request.isCA
    ? ['basicConstraints = critical,CA:TRUE', 'keyUsage = critical,digitalSignature,keyCertSign,cRLSign']
    : ['basicConstraints = critical,CA:FALSE', 'keyUsage = critical,digitalSignature,keyEncipherment', 'extendedKeyUsage = serverAuth,clientAuth']
  const san = request.dnsNames.length > 0 ? [`subjectAltName = ${request.dnsNames.map((n) => `DNS:${n}`).join(',')}`] : []
  return ['[req]', 'prompt = no', 'distinguished_name = dn', 'x509_extensions = ext', '[dn]', `CN = ${request.commonName}`,
    '[ext]', ...usage, 'subjectKeyIdentifier = hash', ...san, ''].join('\n')
}

/** Pure. `-newkey` for cert-manager's key settings. */
export function newKeyArgs(algorithm = 'RSA', size?: number): string[] {
  switch (algorithm.toUpperCase()) {
    case 'ECDSA': return ['-newkey', 'ec', '-pkeyopt', `ec_paramgen_curve:${size === 384 ? 'secp384r1' : size === 521 ? 'secp521r1' : 'prime256v1'}`]
    case 'ED25519': return ['-newkey', 'ed25519']
    default: return ['-newkey', `rsa:${size ?? 2048}`]
  }
}

/** Runs `fn` in a fresh 0700 folder under `scratchDir` and removes it (private keys included) afterwards. */
async function inScratch<T>(scratchDir: string, fn: (dir: string) => Promise<T>): Promise<T> {
  mkdirSync(scratchDir, { recursive: true, mode: 0o700 })
  const dir = mkdtempSync(join(scratchDir, 'openssl-'))
  try {
    return await fn(dir)
  } finally {
    rmSync(dir, { recursive: true, force: true })
  }
}

/** A key and a certificate signed by that key (cert-manager's SelfSigned issuer). */
export function selfSignedCertificate(request: CertificateRequest, scratchDir: string, run: RunProgram = runProgram): Promise<KeyPair> {
  return inScratch(scratchDir, async (dir) => {
    const [config, key, cert] = ['req.cnf', 'tls.key', 'tls.crt'].map((f) => join(dir, f)) as [string, string, string]
    writeFileSync(config, opensslConfig(request))
    await run(['openssl', 'req', '-x509', '-config', config, ...newKeyArgs(request.algorithm, request.size), '-nodes', '-keyout', key,
      '-out', cert, '-days', String(request.days), '-set_serial', `0x${randomBytes(12).toString('hex')}`])
    return { certPem: readFileSync(cert, 'utf8'), keyPem: readFileSync(key, 'utf8') }
  })
}

/** A key and a certificate signed by `ca` (cert-manager's CA issuer). The CA key touches disk only in the 0700 scratch folder. */
export function caSignedCertificate(request: CertificateRequest, ca: KeyPair, scratchDir: string, run: RunProgram = runProgram): Promise<KeyPair> {
  return inScratch(scratchDir, async (dir) => {
    const [config, key, csr, cert, caCert, caKey] = ['req.cnf', 'tls.key', 'tls.csr', 'tls.crt', 'ca.crt', 'ca.key'].map((f) => join(dir, f)) as
      [string, string, string, string, string, string]
    writeFileSync(config, opensslConfig(request))
    writeFileSync(caCert, ca.certPem)
    writeFileSync(caKey, ca.keyPem, { mode: 0o600 })
    await run(['openssl', 'req', '-new', '-config', config, ...newKeyArgs(request.algorithm, request.size), '-nodes', '-keyout', key, '-out', csr])
    await run(['openssl', 'x509', '-req', '-in', csr, '-CA', caCert, '-CAkey', caKey, '-set_serial', `0x${randomBytes(12).toString('hex')}`,
      '-days', String(request.days), '-extfile', config, '-extensions', 'ext', '-out', cert])
    return { certPem: readFileSync(cert, 'utf8'), keyPem: readFileSync(key, 'utf8') }
  })
}

/** Pure. Go duration (`2160h`, `8760h0m0s`, `45m`) → whole days, at least 1; cert-manager's default is 90 days. */
export function durationDays(duration: string | undefined): number {
  if (!duration) return 90
  const match = /^(?:(\d+)h)?(?:(\d+)m)?(?:(\d+)s)?$/.exec(duration)
  if (!match || duration === '') throw new LabStateError(`spec.duration "${duration}" is not a duration like 2160h`, { hint: 'use Go duration syntax' })
  const hours = Number(match[1] ?? 0) + Number(match[2] ?? 0) / 60 + Number(match[3] ?? 0) / 3600
  return Math.max(1, Math.ceil(hours / 24))
}
