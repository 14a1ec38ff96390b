import { existsSync, readFileSync } from 'node:fs'
import { join } from 'node:path'
import { runProgram, type RunProgram } from '../run-program.js'

/** Like FTL's `/etc/pihole/tls.pem`: self-signed, CN `pi.hole`, plus the address the lab serves it on. */
export async function ensurePiholeCertificate(stateDir: string, ip: string, run: RunProgram = runProgram): Promise<{ key: string; cert: string }> {
  const keyFile = join(stateDir, 'tls.key')
  const certFile = join(stateDir, 'tls.crt')
  if (!existsSync(keyFile) || !existsSync(certFile)) {
    await run([
      'openssl', 'req', '-x509', '-newkey', 'ec', '-pkeyopt', 'ec_paramgen_curve:prime256v1', '-nodes', '-days', '30',
      '-keyout', keyFile, '-out', certFile, '-subj', '/CN=pi.hole', '-addext', `subjectAltName=DNS:pi.hole,IP:${ip}`,
    ])
  }
  return { key: readFileSync(keyFile, 'utf8'), cert: readFileSync(certFile, 'utf8') }
}
