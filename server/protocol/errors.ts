/** JSON-RPC 2.0 error codes sluice answers with. */
export const ErrorCode = {
  ParseError: -32700,
  InvalidRequest: -32600,
  MethodNotFound: -32601,
  InvalidParams: -32602,
  InternalError: -32603,
} as const
export type ErrorCode = (typeof ErrorCode)[keyof typeof ErrorCode]

/**
 * A protocol-level failure: thrown inside the protocol layer, turned into a JSON-RPC error
 * response by the dispatcher (or an HTTP error body by the transport).
 * Messages read "Category: reason" and are safe to show the client.
 */
export class ProtocolError extends Error {
  override readonly name = 'ProtocolError'
  constructor(
    readonly code: number,
    message: string,
    readonly data?: unknown,
  ) {
    super(message)
  }
}

export const parseError = (reason: string) =>
  new ProtocolError(ErrorCode.ParseError, `Parse error: ${reason}`)
export const invalidRequest = (reason: string) =>
  new ProtocolError(ErrorCode.InvalidRequest, `Invalid Request: ${reason}`)
export const methodNotFound = (method: string) =>
  new ProtocolError(ErrorCode.MethodNotFound, `Method not found: ${method}`)
export const invalidParams = (reason: string) =>
  new ProtocolError(ErrorCode.InvalidParams, `Invalid params: ${reason}`)
