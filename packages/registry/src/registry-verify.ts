import { randomBytes } from 'node:crypto'
import { checkStep, createHttpClient, createTargetDispatcher, leftToFullVerify, retryPolicyFromConfig, StepSkipped, type HomelabConfig, type Step, type ToolContext } from '@homelab/core'
import type { BasicAuth } from './distribution-client.js'
import { RegistryVerifyError } from './errors/registry-verify-error.js'
import { pullImage, pushImage } from './image-transfer.js'
import { tinyImage, imageBlobs, type OciImage } from './oci-image.js'
import { endpointClient, registryEndpoint, storedRegistryPasswords, type RegistryEndpoint } from './registry-endpoint.js'
import { probeRegistryMetrics } from './registry-metrics-probe.js'
import { checkTlsChain } from './tls-handshake.js'

/** Where verify pushes its own image; nothing else is ever written. */
export const VERIFY_REPOSITORY = 'homelab-devtools/verify'

/** `v20260101t120000-ab12`: a new tag (and new blobs) every run, so two runs never touch each other's image. */
export const verifyRunId = (now = new Date()) => `v${now.toISOString().replace(/[-:]/g, '').replace(/\..*$/, '').toLowerCase()}-${randomBytes(2).toString('hex')}`

type Lazy<T> = () => Promise<T>

/** Computed once on first use; a failure is reported by every step that needed it, not by the whole run. */
function lazy<T>(make: () => Promise<T>): Lazy<T> {
  let value: Promise<T> | undefined
  return () => (value ??= make())
}

type VerifyInput = { config: HomelabConfig; endpoint: Lazy<RegistryEndpoint>; users: Lazy<BasicAuth[]>; runId: string; quick: boolean }

/**
 * End-to-end checks of the registry, each its own step so one failure hides nothing else: TLS chain, auth (401 without
 * credentials, 200 for every user), push + pull by digest + delete, the UI and its /v2 proxy, metrics on the debug port.
 * Only the push step and the metrics Job write anything, so --plan skips them.
 */
export async function registryVerifySteps(ctx: ToolContext): Promise<Step<any, any, any>[]> {
  const { config } = ctx
  const input: VerifyInput = {
    config,
    endpoint: lazy(() => registryEndpoint(ctx.kube(), config)),
    users: lazy(() => storedRegistryPasswords(ctx.kube(), config.registry)),
    runId: verifyRunId(),
    quick: ctx.quick,
  }
  const health = [tlsStep(input), anonymousStep(input), ...config.registry.users.map((user) => userStep(input, user.name)), uiStep(input)]
  const endToEnd = [pushPullStep(input), metricsStep(input, ctx)]
  return [...health, ...(ctx.quick ? leftToFullVerify('registry', endToEnd) : endToEnd)]
}

function tlsStep(input: VerifyInput): Step<null, never> {
  return checkStep(`registry TLS: ${input.config.registry.hosts.registry} chains to the homelab CA`, async () => {
    const endpoint = await input.endpoint()
    await checkTlsChain({ host: endpoint.host, connectTo: endpoint.connectTo, ca: endpoint.ca, caSource: endpoint.caSource, timeoutMs: input.config.timeouts.http.milliseconds })
  })
}

function anonymousStep(input: VerifyInput): Step<null, never> {
  return checkStep('registry /v2/ answers 401 without credentials', async () => {
    const client = endpointClient(await input.endpoint(), input.config)
    const status = await client.ping().finally(() => client.close())
    if (status !== 401) {
      throw new RegistryVerifyError(`${client.host}/v2/ answered ${status} without credentials: anyone can push and pull`, {
        host: client.host,
        hint: 'auth.htpasswd is missing from the registry config: run bootstrap so ConfigMap registry-config is the rendered one',
      })
    }
  })
}

function userStep(input: VerifyInput, name: string): Step<null, never> {
  return checkStep(`registry /v2/ accepts user ${name}`, async () => {
    const auth = (await input.users()).find((u) => u.username === name)!
    const client = endpointClient(await input.endpoint(), input.config, { auth })
    const status = await client.ping().finally(() => client.close())
    if (status !== 200) {
      throw new RegistryVerifyError(`${client.host}/v2/ refused user ${name} (${status})`, {
        host: client.host,
        key: 'registry.users',
        hint: `its password (config, or Secret ${input.config.registry.namespace}/${input.config.registry.auth.credentialsSecretName}) does not match Secret ${input.config.registry.auth.secretName}: run bootstrap`,
      })
    }
  })
}

function pushPullStep(input: VerifyInput): Step<null, never> {
  return checkStep(`registry push, pull by digest and delete of ${VERIFY_REPOSITORY}`, async (ctx) => {
    if (ctx.plan) throw new StepSkipped('--plan writes nothing, and this check pushes an image')
    const [auth] = await input.users()
    const client = endpointClient(await input.endpoint(), input.config, { auth: auth! })
    try {
      const image = tinyImage(`${client.host} ${input.runId}`)
      const { digest } = await pushImage(client, VERIFY_REPOSITORY, input.runId, image)
      try {
        compareImages(image, await pullImage(client, VERIFY_REPOSITORY, digest), `${client.host}/${VERIFY_REPOSITORY}@${digest}`)
      } finally {
        // Deleted by digest, which also drops the tag; its blobs stay until the next GC.
        await client.deleteManifest(VERIFY_REPOSITORY, digest)
      }
      if (await client.headManifest(VERIFY_REPOSITORY, digest)) {
        throw new RegistryVerifyError(`${client.host}: manifest ${digest} is still there after DELETE answered 202`, { host: client.host, hint: 'check storage.delete.enabled in ConfigMap registry-config' })
      }
    } finally {
      await client.close()
    }
  })
}

function compareImages(pushed: OciImage, pulled: Awaited<ReturnType<typeof pullImage>>, where: string): void {
  const differs = [pushed.manifest, ...imageBlobs(pushed)].filter((item) => {
    const got = item === pushed.manifest ? pulled.manifest.bytes : pulled.blobs.get(item.digest)
    return !got || !got.equals(item.bytes)
  })
  if (differs.length > 0) {
    throw new RegistryVerifyError(`${where}: pulled back different bytes for ${differs.map((d) => d.digest).join(', ')}`, { hint: 'the registry storage or a proxy alters content; check the registry log' })
  }
}

function uiStep(input: VerifyInput): Step<null, never> {
  const { registry } = input.config
  return checkStep(`registry UI ${registry.hosts.ui} serves its page and proxies /v2/`, async (ctx) => {
    if (!registry.ui.enabled) throw new StepSkipped('registry.ui.enabled is false')
    const endpoint = await input.endpoint()
    const host = endpoint.uiHost
    const timeoutMs = input.config.timeouts.http.milliseconds
    // Its three requests share one connection: one TLS handshake with Traefik instead of three.
    const dispatcher = createTargetDispatcher({ ca: endpoint.ca, resolve: { [host]: endpoint.connectTo }, timeoutMs })
    try {
      const page = createHttpClient({ baseUrl: `https://${host}`, dispatcher, timeoutMs, retries: retryPolicyFromConfig(input.config.retries) })
      const response = await page.request('GET', '/')
      if (!/text\/html/.test(String(response.headers['content-type'])) || !/<html/i.test(response.text())) {
        throw new RegistryVerifyError(`https://${host}/ answered ${response.status} ${String(response.headers['content-type'])}, not the UI's HTML page`, { host, hint: 'check Deployment registry-ui and IngressRoute registry-ui' })
      }
      // The registry's 401 through the UI host shows the proxy reaches it. A login through it too (the header passed on)
      // costs the registry a bcrypt on the run's last stretch: a quick verify leaves it to `pnpm verify-all`, as the
      // registry's own login check right beside this one proves the password.
      const legs: [BasicAuth | undefined, number][] = [[undefined, 401]]
      if (!input.quick) legs.push([(await input.users())[0], 200])
      for (const [credentials, want] of legs) {
        const status = await endpointClient(endpoint, input.config, { host, dispatcher, ...(credentials ? { auth: credentials } : {}) }).ping()
        if (status !== want) {
          throw new RegistryVerifyError(`https://${host}/v2/ answered ${status} ${credentials ? `for user ${credentials.username}` : 'without credentials'}, expected ${want} from the registry`, {
            host, hint: 'the UI host must send /v2 to the registry (IngressRoute registry-ui, NGINX_PROXY_PASS_URL): run bootstrap',
          })
        }
      }
      ctx.progress(input.quick ? 'its page, and the registry behind /v2/ (a login through it: `pnpm verify-all`)' : `its page, and user ${legs[1]![0]!.username} logs in through /v2/`)
    } finally {
      await dispatcher.close()
    }
  })
}

function metricsStep(input: VerifyInput, tool: ToolContext): Step<null, never> {
  const { registry, timeouts } = input.config
  return checkStep('registry metrics: registry_ series on the debug port (read by an in-cluster Job)', async (ctx) => {
    if (!registry.metrics.enabled) throw new StepSkipped('registry.metrics.enabled is false')
    if (ctx.plan) throw new StepSkipped('--plan writes nothing, and this check runs a Job')
    await probeRegistryMetrics(tool.kube(), registry, { name: `registry-verify-metrics-${input.runId}`, timeoutMs: timeouts.rollout.milliseconds, signal: ctx.signal, progress: ctx.progress })
  })
}
