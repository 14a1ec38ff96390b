import { z } from 'zod'
import { checkedString, durationField, imageField, imageTag, k8sNameField } from './config-fields.js'
import { resolveSecretPair, secretPair, type ConfigFileContext } from './config-file-fields.js'
import { resourcesSchema, storageSchema } from './resources-config-schema.js'
import { serviceHostField } from './registry-config-schema.js'
import { expectedGot } from './config-issue-text.js'

/** The last image that starts without an auth token (26 Feb 2026); every later tag needs one. */
export const LOCALSTACK_COMMUNITY_IMAGE = 'localstack/localstack:4.14.0'
export const DIND_IMAGE = 'docker:27.5.1-dind'

// LocalStack's community service names; a typo here would only surface as a missing service at verify time.
export const LOCALSTACK_SERVICES = [
  'acm', 'apigateway', 'cloudformation', 'cloudwatch', 'config', 'dynamodb', 'dynamodbstreams', 'ec2', 'es', 'events',
  'firehose', 'iam', 'kinesis', 'kms', 'lambda', 'logs', 'opensearch', 'redshift', 'resource-groups',
  'resourcegroupstaggingapi', 'route53', 'route53resolver', 's3', 's3control', 'scheduler', 'secretsmanager', 'ses',
  'sns', 'sqs', 'ssm', 'stepfunctions', 'sts', 'support', 'swf', 'transcribe',
] as const

const CALVER = /^20\d\d\.(0[1-9]|1[0-2])\.\d+$/
const SEMVER = /^(\d+)\.(\d+)\.(\d+)$/

/** Tags up to 4.14.0 run without a token; CalVer tags (2026.03.0 on) and later SemVer ones need `edition: token`. */
function runsWithoutToken(tag: string): boolean {
  const match = SEMVER.exec(tag)
  if (!match) return false
  const [major, minor] = [Number(match[1]), Number(match[2])]
  return major < 4 || (major === 4 && minor <= 14)
}

const pinned = imageField('a pinned image tag such as localstack/localstack:4.14.0 (never latest)', (tag) => SEMVER.test(tag) || CALVER.test(tag))

const blackboxExporterField = () =>
  checkedString('host:port of a blackbox exporter', (v) => (/^[a-z0-9.-]+:\d{1,5}$/.test(v) ? undefined : expectedGot('host:port of a blackbox exporter, e.g. blackbox-exporter.monitoring.svc:9115', v)))

const localstackObject = (file: ConfigFileContext) =>
  z.strictObject({
    enabled: z.boolean().default(true),
    namespace: k8sNameField().default('localstack'),
    edition: z.enum(['community', 'token']).default('community'),
    image: pinned.optional(),
    ...secretPair('authToken'),
    host: serviceHostField().default('localstack'),
    services: z
      .array(z.enum(LOCALSTACK_SERVICES))
      .min(1, { error: 'expected at least one service, got an empty list' })
      .default(['s3', 'sqs', 'sns', 'dynamodb', 'lambda']),
    region: z.string().regex(/^[a-z]{2}(-[a-z]+)+-\d$/, { error: (issue) => expectedGot('an AWS region such as us-east-1', issue.input) }).default('us-east-1'),
    storage: storageSchema({ size: '5Gi', storageClass: 'local-path' }),
    resources: resourcesSchema('localstack.resources', { requests: { memory: '512Mi', cpu: '200m' }, limits: { memory: '2Gi', cpu: '1000m' } }),
    lambda: z
      .strictObject({
        // K3s nodes run containerd, usually without a Docker socket: a dind sidecar works everywhere.
        executor: z.enum(['dind', 'host-socket']).default('dind'),
        dindImage: imageField('a pinned docker dind image, e.g. docker:27.5.1-dind', (tag) => tag !== 'latest' && tag !== 'dind').default(DIND_IMAGE),
      })
      .prefault({}),
    s3: z.strictObject({ virtualHostStyle: z.boolean().default(false) }).prefault({}),
    probe: z
      .strictObject({
        blackboxExporter: blackboxExporterField().optional(),
        module: z.string().default('http_2xx'),
        interval: durationField().prefault('30s'),
      })
      .prefault({}),
    profile: z.strictObject({ name: z.string().min(1).default('localstack') }).prefault({}),
  })

/** The edition decides which images are allowed and whether a token means anything. */
function checkEdition(value: { edition: 'community' | 'token'; image?: string | undefined; authToken?: unknown }, ctx: z.RefinementCtx) {
  const tag = value.image === undefined ? undefined : imageTag(value.image)
  if (value.edition === 'token' && (tag === undefined || !CALVER.test(tag))) {
    const message = expectedGot('a pinned 2026.MM.p tag (e.g. localstack/localstack:2026.07.0) when edition is token', value.image)
    ctx.addIssue({ code: 'custom', path: ['image'], message })
  }
  if (value.edition === 'community' && tag !== undefined && !runsWithoutToken(tag)) {
    const message = `expected a tag up to 4.14.0 for edition community, got ${JSON.stringify(value.image)}; later tags need LOCALSTACK_AUTH_TOKEN: set edition: token`
    ctx.addIssue({ code: 'custom', path: ['image'], message })
  }
  if (value.edition === 'community' && value.authToken !== undefined) {
    ctx.addIssue({ code: 'custom', path: ['authToken'], message: 'an auth token is only used with edition: token; set edition: token or remove it' })
  }
}

export const localstackSchema = (file: ConfigFileContext) =>
  localstackObject(file)
    .transform(resolveSecretPair(file, 'authToken'))
    .superRefine(checkEdition)
    .transform(({ image, ...rest }) => ({ ...rest, image: image ?? LOCALSTACK_COMMUNITY_IMAGE }))
    .prefault({})
