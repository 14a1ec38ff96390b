import { createHash } from 'node:crypto'
import { Secret, type HttpResponse } from '@homelab/core'
import { describeRecord, recordKey, type DnsRecord, type PiholeEntry } from './dns-record.js'
import { PiholeError } from './errors/pihole-error.js'
import type { PiholeClient, PiholeSession } from './pihole-client.js'
import { jsonOrUndefined, piholeRequest, statusError, type PiholeTarget } from './pihole-request.js'

export type PiholeV5Options = PiholeTarget & { password: Secret | undefined }

/** v5's `WEBPASSWORD`: sha256(sha256(password)) as hex, which `auth=` must equal (web v5.21 `password.php`). */
export function v5ApiToken(password: Secret | undefined): Secret {
  const sha256 = (text: string) => createHash('sha256').update(text).digest('hex')
  // No password set: `auth=` is still sent, empty, to skip the CSRF check.
  return new Secret(password && password.reveal() !== '' ? sha256(sha256(password.reveal())) : '')
}

type V5Reply = { data?: string[][]; success?: boolean; message?: string }

/**
 * Pi-hole v5's `admin/api.php?customdns|customcname`. It has no sessions. Its token travels in the query string, so
 * messages show only the action (`/admin/api.php?customdns&action=add`), and core's HttpError masks query values too.
 */
export function piholeV5Client(options: PiholeV5Options): PiholeClient {
  const token = v5ApiToken(options.password)
  const call = (list: 'customdns' | 'customcname', action: string, params: Record<string, string> = {}) =>
    callApi(options, token, list, action, params)
  const session: PiholeSession = {
    list: async () => [
      ...(await call('customdns', 'get')).data!.map(([name, ip]) => entry({ type: 'A', name: name!, ip: ip! }, `${ip} ${name}`)),
      ...(await call('customcname', 'get')).data!.map(([name, target]) => entry({ type: 'CNAME', name: name!, target: target! }, `${name},${target}`)),
    ],
    add: async (record) => {
      const reply = await call(...writeParams('add', record))
      if (reply.success) return 'added'
      // v5 refuses a second record for a name per address family: "present" only if it is this very record.
      if ((await session.list()).some((e) => recordKey(e.record) === recordKey(record))) return 'present'
      throw new PiholeError(`Pi-hole ${options.url}: cannot add ${describeRecord(record)}: ${reply.message ?? '(no message)'}`, { url: options.url, method: 'GET', path: '/admin/api.php' })
    },
    remove: async ({ record }) => (await call(...writeParams('delete', record))).success ? 'removed' : 'absent',
    // api.php restarts DNS itself after every change.
    applyPending: async () => undefined,
    writeRefusal: async () => undefined,
  }
  return { url: options.url, configKey: options.configKey, version: 'v5', open: async () => ({ session, end: async () => undefined }), close: () => options.http.close() }
}

const entry = (record: DnsRecord, stored: string): PiholeEntry => ({ record, stored, shared: false })

function writeParams(action: 'add' | 'delete', record: DnsRecord): ['customdns' | 'customcname', string, Record<string, string>] {
  return record.type === 'A' ? ['customdns', action, { ip: record.ip, domain: record.name }] : ['customcname', action, { domain: record.name, target: record.target }]
}

// The refusals that mean "already the way you want it".
const ALREADY = /already has a custom DNS entry|already a CNAME record|association does not exist/

async function callApi(options: PiholeV5Options, token: Secret, list: string, action: string, params: Record<string, string>): Promise<V5Reply> {
  const shownPath = `/admin/api.php?${list}&action=${action}`
  const response = await piholeRequest(options, 'GET', '/admin/api.php', { query: { [list]: '', action, ...params, auth: token.reveal() }, shownPath, expect: [200] })
  const reply = jsonOrUndefined<V5Reply | unknown[]>(response)
  // A wrong token skips every authenticated branch of api.php: the answer is `[]` (or "Not authorized!"), still 200.
  if (reply === undefined || Array.isArray(reply)) throw wrongToken(options, shownPath, response)
  if (action === 'get' && !Array.isArray(reply.data)) throw new PiholeError(`Pi-hole ${options.url}: GET ${shownPath} → 200 without data`, { url: options.url, method: 'GET', path: shownPath })
  if (action !== 'get' && reply.success === false && !ALREADY.test(reply.message ?? '')) {
    throw new PiholeError(`Pi-hole ${options.url}: GET ${shownPath} refused: ${reply.message ?? '(no message)'}`, { url: options.url, method: 'GET', path: shownPath, status: 200 })
  }
  return reply
}

function wrongToken(options: PiholeV5Options, shownPath: string, response: HttpResponse): PiholeError {
  const key = options.configKey
  const hint = options.password ? `check ${key}.password (the v5 API token is derived from it)` : `this Pi-hole has a password: set ${key}.password`
  const error = statusError(options, 'GET', shownPath, response, hint)
  return new PiholeError(`Pi-hole ${options.url}: GET ${shownPath} → not authorized (api.php answered without data)`, { url: options.url, method: 'GET', path: shownPath, status: 401, key: `${key}.password`, hint, cause: error })
}
