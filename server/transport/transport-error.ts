import { ErrorCode, ProtocolError } from '../protocol/errors.ts'
import { JSONRPC_VERSION, type RequestId } from '../protocol/jsonrpc.ts'
import { SessionRefusedError } from '../session/errors.ts'

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
    /** The id of the request refused, where it could be read. */
    readonly id: RequestId | null = null,
    /** The JSON-RPC error's `data` (the supported versions of a -32022, ...). */
    readonly data?: unknown,
  ) {
    super(message)
  }

  /** A protocol error found while reading a request (parse error, invalid request): 400. */
  static fromProtocol(err: ProtocolError, id: RequestId | null = null): TransportError {
    return new TransportError(400, err.code, err.message, {}, id)
  }
}

/** The client left before its request was read or answered: nothing to answer, not a fault. */
export class ClientGoneError extends Error {
  override readonly name = 'ClientGoneError'
  constructor(readonly phase: 'request_body') {
    super(`the client left during the ${phase.replace('_', ' ')}`)
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

/** A refused new session: 429 for a credential over its quota, 503 for a server-wide limit. */
export function sessionRefused(err: SessionRefusedError): TransportError {
  const status = err.reason === 'sessions_per_token' ? 429 : 503
  return new TransportError(status, TRANSPORT_ERROR_CODE, err.message, {
    'retry-after': String(RETRY_AFTER_S),
  })
}

/** Status for a request whose client is gone (nobody reads it; it keeps 5xx for server faults). */
const CLIENT_CLOSED_REQUEST = 499

/** The answer to a request whose client left mid-upload: nobody will read it. */
export function clientGoneResponse(): Response {
  return new Response(null, { status: CLIENT_CLOSED_REQUEST })
}

/** The HTTP response for a transport rejection. */
export function transportErrorResponse(err: TransportError): Response {
  const body = {
    jsonrpc: JSONRPC_VERSION,
    id: err.id,
    error: {
      code: err.code,
      message: err.message,
      ...(err.data === undefined ? {} : { data: err.data }),
    },
  }
  return Response.json(body, { status: err.status, headers: err.headers })
}

/** Wraps anything thrown while reading a request into a TransportError (never leaks internals). */
export function toTransportError(err: unknown): TransportError {
  if (err instanceof TransportError) return err
  if (err instanceof ProtocolError) return TransportError.fromProtocol(err)
  if (err instanceof SessionRefusedError) return sessionRefused(err)
  return new TransportError(500, ErrorCode.InternalError, 'Internal error: the request failed')
}
