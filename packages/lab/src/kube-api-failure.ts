import { LabKubeError } from './errors/lab-error.js'
import { ApiException } from '@kubernetes/client-node'

type StatusBody = { message?: string; reason?: string }

function statusBody(body: unknown): StatusBody {
  if (typeof body === 'object' && body !== null) return body as StatusBody
  if (typeof body !== 'string') return {}
  try {
    return JSON.parse(body) as StatusBody
  } catch (error) {
    return { message: body.slice(0, 500) } // not a Status object: the raw text is the best description there is
  }
}

/** Turns a client-node failure into a LabKubeError naming the request, the object and the server's own reason. */
export function kubeApiFailure(request: { action: string; object: string; server: string }, error: unknown): LabKubeError {
  const { action, object, server } = request
  if (error instanceof ApiException) {
    const body = statusBody(error.body)
    return new LabKubeError(`${action} ${object} on ${server} → ${error.code}${body.message ? `: ${body.message}` : ''}`, {
      host: server, status: error.code, object, cause: error, ...(body.reason ? { reason: body.reason } : {}),
      hint: error.code === 401 ? 'the lab token is not accepted: run `pnpm lab down && pnpm lab up`' : undefined,
    })
  }
  return new LabKubeError(`${action} ${object} on ${server} failed: ${error instanceof Error ? error.message : String(error)}`, {
    host: server, object, cause: error, hint: 'is the lab up? run `pnpm lab status`',
  })
}
