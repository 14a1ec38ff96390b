import { createServer, type IncomingMessage, type Server, type ServerResponse } from 'node:http'
import type { AddressInfo } from 'node:net'

/** One emulated AWS service, listening on its own loopback port behind the edge. */
export type RunningEmulator = { readonly service: string; readonly port: number; close(): Promise<void> }

export type RequestHandler = (request: IncomingMessage, body: Buffer, response: ServerResponse) => Promise<void>

/** Listens on `ip`, any free port; a handler that throws answers 500 with the reason, as a service bug would. */
export async function startEmulatorServer(service: string, ip: string, handle: RequestHandler): Promise<RunningEmulator> {
  const server = createServer((request, response) => {
    readBody(request)
      .then((body) => handle(request, body, response))
      .catch((error: unknown) => {
        if (!response.headersSent) response.writeHead(500, { 'content-type': 'text/plain' })
        response.end(`${service} emulator failed: ${error instanceof Error ? error.message : String(error)}`)
      })
  })
  return listenOn(service, server, ip)
}

/** Wraps a server someone else made (s3rver's, dynalite's) the same way. */
export async function listenOn(service: string, server: Server, ip: string): Promise<RunningEmulator> {
  await new Promise<void>((resolve, reject) => {
    server.once('error', reject)
    server.listen(0, ip, () => resolve())
  })
  return { service, port: (server.address() as AddressInfo).port, close: () => closeServer(server) }
}

export function closeServer(server: Server): Promise<void> {
  return new Promise((resolve) => {
    // Keep-alive sockets would hold close() open until they time out.
    server.closeAllConnections()
    server.close(() => resolve())
  })
}

export async function readBody(request: IncomingMessage): Promise<Buffer> {
  const chunks: Buffer[] = []
  for await (const chunk of request) chunks.push(chunk as Buffer)
  return Buffer.concat(chunks)
}

export function sendJson(response: ServerResponse, status: number, body: unknown, headers: Record<string, string> = {}): void {
  const text = JSON.stringify(body)
  response.writeHead(status, { 'content-type': 'application/x-amz-json-1.0', 'content-length': Buffer.byteLength(text), ...headers })
  response.end(text)
}

export function sendXml(response: ServerResponse, status: number, xml: string): void {
  const text = `<?xml version="1.0" encoding="UTF-8"?>\n${xml}`
  response.writeHead(status, { 'content-type': 'text/xml', 'content-length': Buffer.byteLength(text) })
  response.end(text)
}

export const escapeXml = (text: string) =>
  text.replace(/[<>&'"]/g, (c) => ({ '<': '&lt;', '>': '&gt;', '&': '&amp;', "'": '&apos;', '"': '&quot;' })[c]!)

export const ACCOUNT_ID = '000000000000'
