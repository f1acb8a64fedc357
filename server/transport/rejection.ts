import type { ServerMetrics } from '../observability/server-metrics.ts'
import {
  ClientGoneError,
  clientGoneResponse,
  type TransportError,
  toTransportError,
  transportErrorResponse,
} from './transport-error.ts'

/**
 * The HTTP answer to a request a transport refused, counted once: a client that left mid-upload
 * as a client abort (not a 5xx), anything else by its status (413 also as a body-size refusal).
 * `shape` may adjust the error first (the 2026-07-28 era adds the request's id and its status).
 */
export function rejectionResponse(
  err: unknown,
  metrics: ServerMetrics,
  shape: (err: unknown) => TransportError = toTransportError,
): Response {
  if (err instanceof ClientGoneError) {
    metrics.clientAborts.inc({ phase: err.phase })
    return clientGoneResponse()
  }
  const error = shape(err)
  metrics.httpRejections.inc({ status: String(error.status) })
  if (error.status === 413) metrics.limitRefusals.inc({ limit: 'body_bytes' })
  return transportErrorResponse(error)
}
