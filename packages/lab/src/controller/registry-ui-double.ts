import { createServer, request, type IncomingMessage, type Server, type ServerResponse } from 'node:http'

export type RegistryUiOptions = {
  /** Address to listen on (the pod IP) and port (`NGINX_LISTEN_PORT`, default 80). */
  host: string
  port: number
  /** Joxit's env: REGISTRY_TITLE, NGINX_PROXY_PASS_URL, SINGLE_REGISTRY, DELETE_IMAGES, … */
  env: Readonly<Record<string, string | undefined>>
}

const escapeHtml = (text: string) => text.replace(/[&<>"']/g, (c) => `&#${c.charCodeAt(0)};`)

/** Pure. The UI page: Joxit substitutes its env into index.html at start; the double renders the same attributes. */
export function registryUiPage(env: Readonly<Record<string, string | undefined>>): string {
  const title = env.REGISTRY_TITLE ?? 'Docker registry UI'
  const attributes = {
    title, 'registry-url': env.REGISTRY_URL ?? '', 'single-registry': env.SINGLE_REGISTRY ?? 'false', 'delete-images': env.DELETE_IMAGES ?? 'false',
    'pull-url': env.PULL_URL ?? '', 'show-content-digest': env.SHOW_CONTENT_DIGEST ?? 'false', 'catalog-elements-limit': env.CATALOG_ELEMENTS_LIMIT ?? '1000',
  }
  const attrs = Object.entries(attributes).map(([k, v]) => `${k}="${escapeHtml(v)}"`).join(' ')
  return `<!DOCTYPE html>\n<html>\n<head><meta charset="utf-8"><title>${escapeHtml(title)}</title></head>\n<body>\n  <docker-registry-ui ${attrs}></docker-registry-ui>\n</body>\n</html>\n`
}

/** Joxit's nginx `location /v2`: proxy_pass to NGINX_PROXY_PASS_URL, Host kept ($http_host), no buffering either way. */
function proxyV2(req: IncomingMessage, res: ServerResponse, target: URL): void {
  const headers = { ...req.headers }
  delete headers.connection
  const upstream = request({ host: target.hostname, port: target.port || 80, method: req.method, path: req.url, headers }, (answer) => {
    const kept: string[] = []
    for (let i = 0; i + 1 < answer.rawHeaders.length; i += 2) {
      if (answer.rawHeaders[i]?.toLowerCase() !== 'connection') kept.push(answer.rawHeaders[i] ?? '', answer.rawHeaders[i + 1] ?? '')
    }
    res.writeHead(answer.statusCode ?? 502, kept)
    answer.pipe(res)
  })
  upstream.on('error', (error) => {
    if (!res.headersSent) res.writeHead(502, { 'content-type': 'text/html' }).end(`<html><body><h1>502 Bad Gateway</h1><!-- ${escapeHtml(error.message)} --></body></html>\n`)
    else res.destroy()
  })
  req.pipe(upstream)
}

/** A double of the joxit/docker-registry-ui image: the page, and `/v2/*` proxied when NGINX_PROXY_PASS_URL is set. */
export function startRegistryUiDouble(options: RegistryUiOptions): Promise<Server> {
  const page = registryUiPage(options.env)
  const target = options.env.NGINX_PROXY_PASS_URL ? new URL(options.env.NGINX_PROXY_PASS_URL) : undefined
  const server = createServer({ requestTimeout: 0 }, (req, res) => {
    const path = (req.url ?? '/').split('?')[0] ?? '/'
    if (path.startsWith('/v2') && target) return proxyV2(req, res, target)
    if (path === '/' || path === '/index.html') return void res.writeHead(200, { 'content-type': 'text/html' }).end(req.method === 'HEAD' ? undefined : page)
    res.writeHead(404, { 'content-type': 'text/html' }).end('<html><body><h1>404 Not Found</h1></body></html>\n')
  })
  return new Promise((resolve, reject) => {
    server.once('error', reject)
    server.listen(options.port, options.host, () => resolve(server))
  })
}
