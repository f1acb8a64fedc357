/** JSON-RPC 2.0 error codes sluice answers with. */
export const ErrorCode = {
  ParseError: -32700,
  InvalidRequest: -32600,
  MethodNotFound: -32601,
  InvalidParams: -32602,
  InternalError: -32603,
  /** 2026-07-28: HTTP headers missing or not matching the body (SEP-2243). */
  HeaderMismatch: -32020,
  /** 2026-07-28: the request needs a client capability the client did not declare. */
  MissingRequiredClientCapability: -32021,
  /** 2026-07-28: the requested protocol version is not one the server speaks. */
  UnsupportedProtocolVersion: -32022,
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

export const headerMismatch = (reason: string) =>
  new ProtocolError(ErrorCode.HeaderMismatch, `Header mismatch: ${reason}`)
export const unsupportedProtocolVersion = (requested: string, supported: readonly string[]) =>
  new ProtocolError(
    ErrorCode.UnsupportedProtocolVersion,
    `Unsupported protocol version: ${requested}; this server speaks ${supported.join(', ')}`,
    { supported, requested },
  )
export const missingClientCapability = (capability: string) =>
  new ProtocolError(
    ErrorCode.MissingRequiredClientCapability,
    `Missing required client capability: this request needs '${capability}', which the client did not declare`,
    { requiredCapabilities: { [capability]: {} } },
  )
