import type { IncomingHttpHeaders } from 'node:http'

export const DOUBLE_SERVICES = ['s3', 'sqs', 'sns', 'dynamodb', 'lambda'] as const
export type DoubleService = (typeof DOUBLE_SERVICES)[number]

// `Credential=test/20260101/us-east-1/sqs/aws4_request`: the signing scope names region and service.
const CREDENTIAL_SCOPE = /Credential=[^/]+\/\d{8}\/([^/]+)\/([^/]+)\/aws4_request/
const TARGET_PREFIXES: Record<string, DoubleService> = { DynamoDB_: 'dynamodb', AmazonSQS: 'sqs' }

function credentialScope(headers: IncomingHttpHeaders, query: URLSearchParams): RegExpExecArray | null {
  const header = headers.authorization
  // Presigned URLs carry the scope in the query instead of the header.
  const fromQuery = query.get('X-Amz-Credential')
  return CREDENTIAL_SCOPE.exec(header ?? (fromQuery ? `Credential=${fromQuery}` : ''))
}

export function regionOf(headers: IncomingHttpHeaders, query = new URLSearchParams()): string | undefined {
  return credentialScope(headers, query)?.[1]
}

/**
 * Which service a request is for, the way LocalStack's edge router decides on one port: the X-Amz-Target prefix,
 * then the signing scope's service, then the Lambda REST path; anything else is S3, LocalStack's own fallback.
 */
export function serviceOfRequest(headers: IncomingHttpHeaders, url: URL): string {
  const target = String(headers['x-amz-target'] ?? '')
  for (const [prefix, service] of Object.entries(TARGET_PREFIXES)) if (target.startsWith(prefix)) return service
  const scoped = credentialScope(headers, url.searchParams)?.[2]
  if (scoped) return scoped
  if (/^\/20\d\d-\d\d-\d\d\/functions(\/|$)/.test(url.pathname)) return 'lambda'
  return 's3'
}
