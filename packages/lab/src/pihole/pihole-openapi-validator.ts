import { resolve } from 'node:path'
import SwaggerParser from '@apidevtools/swagger-parser'
import { OpenAPIBackend, type Operation } from 'openapi-backend'
import { repoRoot, upstreamFixture } from '../lab-paths.js'

/** The upstream FTL v6.4.1 OpenAPI files, kept next to the repo, unchanged. */
export const piholeSpecPath = (root: string = repoRoot()) => resolve(root, '..', 'shared', 'fixtures', 'pihole', 'specs', 'main.yaml')

/** One request as the double saw it, in the spec's terms: paths without the `/api` server prefix. */
export type SpecRequest = { operationId: string; method: string; path: string; query: Record<string, string>; headers: Record<string, string>; body?: unknown }

export type PiholeSpecValidator = {
  validateRequest(request: SpecRequest): string[]
  validateResponse(operationId: string, status: number, body: unknown): string[]
}

/*
 * Answers a real FTL gives that the spec does not list for that operation, each seen by the reference ([verified]).
 * Their bodies are still checked: against the error object every FTL error uses, or `{took}`.
 */
const VERIFIED_UNDOCUMENTED: Record<string, Record<number, 'error' | 'took'>> = {
  add_array_item: { 403: 'error', 404: 'took' },
  delete_array_item: { 403: 'error' },
  action_restartdns: { 403: 'error' },
}

/** The spec gives GET /config/{element} no body schema; the reply is a subset of GET /config's, so that one applies. */
const BORROWED_SCHEMA: Record<string, string> = { get_config_elem: 'get_config' }

export async function loadPiholeSpecValidator(specPath: string = piholeSpecPath()): Promise<PiholeSpecValidator> {
  const definition = await SwaggerParser.dereference(upstreamFixture(specPath, 'the Pi-hole OpenAPI spec'))
  // quick: validators are compiled on first use (8 s → 30 ms to start); swagger-parser has already checked the document.
  const api = new OpenAPIBackend({ definition: definition as never, validate: true, quick: true, strict: false, ajvOpts: { strict: false } })
  await api.init()
  const operation = (id: string): Operation => {
    const op = api.getOperation(id)
    if (!op) throw new Error(`the Pi-hole spec has no operation ${id}`)
    return op
  }
  return {
    validateRequest(request) {
      const result = api.validator.validateRequest(
        { method: request.method.toLowerCase(), path: request.path, query: request.query, headers: request.headers, ...(request.body === undefined ? {} : { body: request.body }) },
        operation(request.operationId).operationId,
      )
      return (result.errors ?? []).map((e) => `request ${request.operationId}: ${e.instancePath || '/'} ${e.message ?? e.keyword}`)
    },
    validateResponse(operationId, status, body) {
      const op = operation(operationId)
      const documented = op.responses?.[String(status)] ?? op.responses?.['default']
      const known = VERIFIED_UNDOCUMENTED[operationId]?.[status]
      if (!documented && !known) return [`response ${operationId}: status ${status} is not in the spec`]
      if (!documented) return shapeErrors(operationId, status, body, known!)
      const hasContent = 'content' in (documented as object) && (documented as { content?: unknown }).content !== undefined
      // No content in the spec: FTL still adds `{took}` to a 201 (seen by the reference), so that alone is allowed.
      if (!hasContent && !BORROWED_SCHEMA[operationId]) return body === undefined ? [] : shapeErrors(operationId, status, body, 'took')
      const schemaOp = hasContent ? op : operation(BORROWED_SCHEMA[operationId]!)
      const result = api.validator.validateResponse(body, schemaOp.operationId!, hasContent ? status : 200)
      return (result.errors ?? []).map((e) => `response ${operationId} ${status}: ${e.instancePath || '/'} ${e.message ?? e.keyword}`)
    },
  }
}

function shapeErrors(operationId: string, status: number, body: unknown, shape: 'error' | 'took'): string[] {
  const where = `response ${operationId} ${status}`
  if (typeof body !== 'object' || body === null) return [`${where}: expected a JSON object`]
  const record = body as Record<string, unknown>
  if (typeof record['took'] !== 'number') return [`${where}: took must be a number`]
  if (shape === 'took') return Object.keys(record).length === 1 ? [] : [`${where}: expected only {took}`]
  const error = record['error'] as Record<string, unknown> | undefined
  const ok = error && typeof error['key'] === 'string' && typeof error['message'] === 'string' && (error['hint'] === null || typeof error['hint'] === 'string')
  return ok ? [] : [`${where}: expected {error: {key, message, hint}}`]
}
