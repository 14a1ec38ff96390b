import { randomUUID } from 'node:crypto'
import { hostname } from 'node:os'

/** LocalStack's ServiceState values (`services/plugins.py`). */
export type ServiceState = 'unknown' | 'available' | 'disabled' | 'starting' | 'running' | 'stopping' | 'stopped' | 'error'

// The community services LocalStack 4.14 reports in /_localstack/health; those not in SERVICES show `disabled`.
const COMMUNITY_SERVICES = [
  'acm', 'apigateway', 'cloudformation', 'cloudwatch', 'config', 'dynamodb', 'dynamodbstreams', 'ec2', 'es', 'events', 'firehose', 'iam',
  'kinesis', 'kms', 'lambda', 'logs', 'opensearch', 'redshift', 'resource-groups', 'resourcegroupstaggingapi', 'route53', 'route53resolver',
  's3', 's3control', 'scheduler', 'secretsmanager', 'ses', 'sns', 'sqs', 'ssm', 'stepfunctions', 'sts', 'support', 'swf', 'transcribe',
]

export type InstanceFacts = { version: string; edition: 'community' | 'pro'; licensed: boolean; persistence: boolean; startedAt: number; sessionId: string }

export function instanceFacts(options: { version: string; authToken: string | undefined; persistence: boolean }): InstanceFacts {
  const licensed = options.authToken !== undefined && options.authToken !== ''
  // Persistence is a paid-tier feature: without a licence PERSISTENCE=1 does nothing, and the health says so.
  return { version: options.version, edition: licensed ? 'pro' : 'community', licensed, persistence: licensed && options.persistence, startedAt: Date.now(), sessionId: randomUUID() }
}

/** `GET /_localstack/health`: every known service with its state, then edition, version and features. */
export function healthDocument(facts: InstanceFacts, states: ReadonlyMap<string, ServiceState>) {
  const names = [...new Set([...COMMUNITY_SERVICES, ...states.keys()])].sort()
  return {
    services: Object.fromEntries(names.map((n) => [n, states.get(n) ?? 'disabled'])),
    edition: facts.edition,
    version: facts.version,
    features: { initScripts: 'initialized', ...(facts.edition === 'pro' ? { persistence: facts.persistence ? 'initialized' : 'disabled' } : {}) },
  }
}

/** `GET /_localstack/info`, with the fields LocalStack 4.x returns. */
export function infoDocument(facts: InstanceFacts) {
  return {
    version: facts.version,
    edition: facts.edition,
    is_license_activated: facts.licensed,
    session_id: facts.sessionId,
    machine_id: `lab_${hostname()}`,
    system: `${process.platform}-${process.arch}`,
    is_docker: false,
    server_time_utc: new Date().toISOString().replace(/\.\d+Z$/, ''),
    uptime: Math.floor((Date.now() - facts.startedAt) / 1000),
  }
}

/** `GET /_localstack/init`: no init scripts in the lab, every stage done. */
export const initDocument = () => ({ completed: { BOOT: true, START: true, READY: true, SHUTDOWN: false }, scripts: [] })
