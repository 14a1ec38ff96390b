import { readFileSync } from 'node:fs'
import { Agent, request } from 'node:https'
import { LabKubeError } from '../errors/lab-error.js'
import { apiServerHandle } from '../api-server.js'
import type { LabSecret } from '../lab-secret.js'

export type RequestOptions = { body?: unknown; contentType?: string; query?: Record<string, string> }

/**
 * Plain JSON over HTTPS to the lab's API server. The controller reads and writes objects exactly as the wire has
 * them: client-node 1.x serializes built-in kinds from its model keys, which would silently drop wire-only fields.
 */
export class KubeRestClient {
  readonly server: string
  readonly #token: LabSecret
  readonly #ca: Buffer
  readonly #agent = new Agent({ keepAlive: true, maxSockets: 8 })

  constructor(options: { server: string; token: LabSecret; ca: Buffer }) {
    this.server = options.server
    this.#token = options.token
    this.#ca = options.ca
  }

  static forLab(stateDir: string): KubeRestClient {
    const handle = apiServerHandle(stateDir)
    return new KubeRestClient({ server: handle.server, token: handle.token, ca: readFileSync(handle.caFile) })
  }

  /** The parsed JSON answer; a status other than 2xx becomes a LabKubeError naming the request. */
  request<T>(method: string, path: string, options: RequestOptions = {}): Promise<T> {
    const query = options.query ? `?${new URLSearchParams(options.query).toString()}` : ''
    const body = options.body === undefined ? undefined : JSON.stringify(options.body)
    const headers: Record<string, string> = { authorization: `Bearer ${this.#token.reveal()}`, accept: 'application/json' }
    if (body !== undefined) headers['content-type'] = options.contentType ?? 'application/json'
    return new Promise((resolve, reject) => {
      const req = request(`${this.server}${path}${query}`, { method, headers, ca: this.#ca, agent: this.#agent, timeout: 10_000 }, (res) => {
        const chunks: Buffer[] = []
        res.on('data', (chunk: Buffer) => chunks.push(chunk))
        res.on('end', () => {
          const text = Buffer.concat(chunks).toString('utf8')
          const status = res.statusCode ?? 0
          if (status >= 200 && status < 300) return resolve((text ? JSON.parse(text) : {}) as T)
          reject(this.#failure(method, path, status, text))
        })
        res.on('error', reject)
      })
      req.on('timeout', () => req.destroy(new Error('no answer within 10 s')))
      req.on('error', (error) => reject(new LabKubeError(`${method} ${path} on ${this.server} failed: ${error.message}`, {
        host: this.server, cause: error, hint: 'is the lab API server up? run `pnpm lab status`',
      })))
      req.end(body)
    })
  }

  #failure(method: string, path: string, status: number, text: string): LabKubeError {
    let message = text.slice(0, 300)
    try {
      message = (JSON.parse(text) as { message?: string }).message ?? message
    } catch (error) {
      void error // not a Status object: the raw text above is what the server said
    }
    return new LabKubeError(`${method} ${path} on ${this.server} → ${status}: ${message}`, { host: this.server, status, object: path })
  }

  /** The object, or undefined when the server answers 404. */
  async get<T>(path: string): Promise<T | undefined> {
    try {
      return await this.request<T>('GET', path)
    } catch (error) {
      if (error instanceof LabKubeError && error.status === 404) return undefined
      throw error
    }
  }

  async list<T>(path: string, query?: Record<string, string>): Promise<T[]> {
    return (await this.request<{ items?: T[] }>('GET', path, { query })).items ?? []
  }

  create<T>(path: string, body: unknown): Promise<T> {
    return this.request<T>('POST', path, { body })
  }

  /** JSON merge patch (RFC 7386): the status subresource takes `{ status: … }` this way. */
  mergePatch<T>(path: string, body: unknown): Promise<T> {
    return this.request<T>('PATCH', path, { body, contentType: 'application/merge-patch+json' })
  }

  /** Deletes; a 404 means someone was faster, which is the outcome we wanted. */
  async delete(path: string, query?: Record<string, string>): Promise<void> {
    try {
      await this.request('DELETE', path, { query })
    } catch (error) {
      if (!(error instanceof LabKubeError && error.status === 404)) throw error
    }
  }

  close(): void {
    this.#agent.destroy()
  }
}
