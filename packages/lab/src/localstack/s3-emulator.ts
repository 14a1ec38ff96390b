import { createRequire } from 'node:module'
import type { Server } from 'node:http'
import S3rver from 's3rver'
import { closeServer, type RunningEmulator } from './emulator-server.js'

// s3rver keeps its accounts in a CommonJS registry that its package does not export in its types.
const { DUMMY_ACCOUNT } = createRequire(import.meta.url)('s3rver/lib/models/account.js') as { DUMMY_ACCOUNT: { createKeyPair(id: string, secret: string): void } }

/**
 * S3 on s3rver 3.7.1, stored under `directory`. `publicHost` is the LocalStack host: `<bucket>.s3.<publicHost>`
 * is then a virtual-host bucket, as LocalStack 4.x reads any `<bucket>.s3.<anything>`.
 */
export async function startS3Emulator(ip: string, options: { directory: string; publicHost: string }): Promise<RunningEmulator> {
  // LocalStack accepts any key and maps `test` to account 000000000000; s3rver knows only S3RVER until told.
  DUMMY_ACCOUNT.createKeyPair('test', 'test')
  const s3rver = new S3rver({
    address: ip,
    port: 0,
    silent: true,
    directory: options.directory,
    serviceEndpoint: options.publicHost,
    vhostBuckets: false,
    // LocalStack's S3_SKIP_SIGNATURE_VALIDATION=1 default: the edge forwards, so the signed host may differ.
    allowMismatchedSignatures: true,
    resetOnClose: true,
  })
  const address = (await s3rver.run()) as { port: number }
  const server = (s3rver as unknown as { httpServer: Server }).httpServer
  return { service: 's3', port: address.port, close: () => closeServer(server) }
}
