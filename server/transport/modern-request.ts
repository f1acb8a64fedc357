import {
  ErrorCode,
  headerMismatch,
  methodNotFound,
  unsupportedProtocolVersion,
} from '../protocol/errors.ts'
import type { JsonRpcRequest } from '../protocol/jsonrpc.ts'
import type { PeerState } from '../protocol/peer.ts'
import { readRequestMeta } from '../protocol/request-meta.ts'
import { ALL_PROTOCOL_VERSIONS, isModernVersion } from '../protocol/versions.ts'
import { checkParamHeaders, checkStandardHeaders } from './mcp-headers.ts'

/** Methods 2026-07-28 removed: answered 404 with -32601, as for any method the server lacks. */
const REMOVED_METHODS: ReadonlySet<string> = new Set([
  'initialize',
  'ping',
  'logging/setLevel',
  'resources/subscribe',
  'resources/unsubscribe',
])

/** Methods the transport itself serves, beside the dispatcher's. */
const TRANSPORT_METHODS: ReadonlySet<string> = new Set(['subscriptions/listen'])

export interface ModernRequestChecks {
  /** Whether the dispatcher has a handler for a method. */
  knows: (method: string) => boolean
  /** The published input schema of a tool, for its `x-mcp-header` parameters. */
  toolSchema: (name: string) => unknown
}

/**
 * Validates a 2026-07-28 request at the edge: its `_meta`, then its headers, version and method,
 * in the order the spec's errors are told apart. Returns the state of the peer that will serve it.
 * @throws ProtocolError -32602 (`_meta`), -32020 (headers), -32022 (version), -32601 (method).
 */
export function checkModernRequest(
  headers: Headers,
  message: JsonRpcRequest,
  checks: ModernRequestChecks,
): PeerState {
  const meta = readRequestMeta(message.params)
  const header = headers.get('mcp-protocol-version')?.trim()
  if (!header) throw headerMismatch('the MCP-Protocol-Version header is required')
  if (header !== meta.protocolVersion) {
    throw headerMismatch(
      `MCP-Protocol-Version header value '${header}' does not match _meta protocolVersion '${meta.protocolVersion}'`,
    )
  }
  if (!isModernVersion(meta.protocolVersion)) {
    throw unsupportedProtocolVersion(meta.protocolVersion, ALL_PROTOCOL_VERSIONS)
  }
  checkStandardHeaders(headers, message)
  const known = TRANSPORT_METHODS.has(message.method) || checks.knows(message.method)
  if (REMOVED_METHODS.has(message.method) || !known) throw methodNotFound(message.method)
  const name = message.params?.name
  if (message.method === 'tools/call' && typeof name === 'string') {
    checkParamHeaders(headers, checks.toolSchema(name), message.params?.arguments)
  }
  const state: PeerState = {
    protocolVersion: meta.protocolVersion,
    clientReady: true,
    clientInfo: meta.clientInfo,
    clientCapabilities: meta.clientCapabilities,
  }
  if (meta.logLevel !== undefined) state.logLevel = meta.logLevel
  return state
}

/** HTTP status of a JSON-RPC error in the 2026 era: 404 for an unknown method, 400 for the rest. */
export function statusOfError(code: number): number {
  return code === ErrorCode.MethodNotFound ? 404 : 400
}

/** A JSON answer's status: its error's, for the errors 2026-07-28 gives an HTTP status. */
export function statusOfAnswer(json: string): number {
  if (!json.includes('"error":')) return 200
  const code = (JSON.parse(json) as { error?: { code?: number } }).error?.code
  if (code === ErrorCode.MethodNotFound) return 404
  if (
    code === ErrorCode.HeaderMismatch ||
    code === ErrorCode.MissingRequiredClientCapability ||
    code === ErrorCode.UnsupportedProtocolVersion
  ) {
    return 400
  }
  return 200
}
