import { ErrorCode, ProtocolError } from '../protocol/errors.ts'
import { JSONRPC_VERSION } from '../protocol/jsonrpc.ts'

/** JSON-RPC code for transport rejections that have no JSON-RPC meaning (as the MCP SDK uses). */
export const TRANSPORT_ERROR_CODE = -32000

/**
 * A request refused at the transport: answered with an HTTP status and a JSON-RPC error body.
 * Messages read "Category: reason" and are safe to show the client.
 */
export class TransportError extends Error {
  override readonly name = 'TransportError'
  constructor(
    readonly status: number,
    readonly code: number,
    message: string,
    readonly headers: Readonly<Record<string, string>> = {},
  ) {
    super(message)
  }

  /** A protocol error found while reading a request body (parse error, invalid request): 400. */
  static fromProtocol(err: ProtocolError): TransportError {
    return new TransportError(400, err.code, err.message)
  }
}

export const badRequest = (reason: string) =>
  new TransportError(400, TRANSPORT_ERROR_CODE, `Bad Request: ${reason}`)
export const sessionNotFound = (id: string) =>
  new TransportError(
    404,
    TRANSPORT_ERROR_CODE,
    `Not Found: session ${id} does not exist or has expired`,
  )

/** Seconds a refused client should wait before it tries again. */
export const RETRY_AFTER_S = 5

export const serviceUnavailable = (message: string) =>
  new TransportError(503, TRANSPORT_ERROR_CODE, message, { 'retry-after': String(RETRY_AFTER_S) })

/** The HTTP response for a transport rejection. */
export function transportErrorResponse(err: TransportError): Response {
  const body = {
    jsonrpc: JSONRPC_VERSION,
    id: null,
    error: { code: err.code, message: err.message },
  }
  return Response.json(body, { status: err.status, headers: err.headers })
}

/** Wraps anything thrown while reading a request into a TransportError (never leaks internals). */
export function toTransportError(err: unknown): TransportError {
  if (err instanceof TransportError) return err
  if (err instanceof ProtocolError) return TransportError.fromProtocol(err)
  return new TransportError(500, ErrorCode.InternalError, 'Internal error: the request failed')
}
