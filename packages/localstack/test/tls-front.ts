// Test helper: a TLS front on loopback, standing in for Traefik (TLS at the edge, Host kept, every path passed on),
// with a throwaway CA made by openssl. Used until the lab's own Traefik double serves localstack.<domain>.
import { execFileSync } from 'node:child_process'
import { mkdtempSync, readFileSync, rmSync, writeFileSync } from 'node:fs'
import { request as httpRequest } from 'node:http'
import { createServer } from 'node:https'
import type { AddressInfo } from 'node:net'
import { tmpdir } from 'node:os'
import { join } from 'node:path'

export type TlsFront = { ip: string; port: number; caPem: string; close(): Promise<void> }

function makeCertificates(host: string): { caPem: string; key: string; cert: string } {
  const dir = mkdtempSync(join(tmpdir(), 'localstack-front-'))
  const openssl = (...args: string[]) => execFileSync('openssl', args, { cwd: dir, stdio: 'pipe' })
  try {
    openssl('req', '-x509', '-newkey', 'rsa:2048', '-nodes', '-keyout', 'ca.key', '-out', 'ca.crt', '-days', '2', '-subj', '/CN=localstack test CA')
    openssl('req', '-newkey', 'rsa:2048', '-nodes', '-keyout', 'host.key', '-out', 'host.csr', '-subj', `/CN=${host}`)
    writeFileSync(join(dir, 'san.ext'), `subjectAltName=DNS:${host},DNS:*.s3.${host}\n`)
    openssl('x509', '-req', '-in', 'host.csr', '-CA', 'ca.crt', '-CAkey', 'ca.key', '-CAcreateserial', '-out', 'host.crt', '-days', '2', '-extfile', 'san.ext')
    const read = (f: string) => readFileSync(join(dir, f), 'utf8')
    return { caPem: read('ca.crt'), key: read('host.key'), cert: read('host.crt') }
  } finally {
    rmSync(dir, { recursive: true, force: true })
  }
}

export async function startTlsFront(options: { ip: string; host: string; upstream: string }): Promise<TlsFront> {
  const { caPem, key, cert } = makeCertificates(options.host)
  const upstream = new URL(options.upstream)
  const server = createServer({ key, cert }, (req, res) => {
    const out = httpRequest({ host: upstream.hostname, port: upstream.port, method: req.method, path: req.url, headers: req.headers }, (answer) => {
      res.writeHead(answer.statusCode ?? 502, answer.headers)
      answer.pipe(res)
    })
    out.on('error', (error) => res.writeHead(502).end(`front: ${error.message}`))
    req.pipe(out)
  })
  await new Promise<void>((resolve) => server.listen(0, options.ip, () => resolve()))
  return {
    ip: options.ip,
    port: (server.address() as AddressInfo).port,
    caPem,
    close: () =>
      new Promise<void>((resolve) => {
        server.closeAllConnections()
        server.close(() => resolve())
      }),
  }
}
