import { ErrorCode, ProtocolError } from '../protocol/errors.ts'
import { metaProtocolVersion } from '../protocol/request-meta.ts'
import { isModernVersion, isSupportedVersion } from '../protocol/versions.ts'
import { readBodyJson, readBodyText } from './json-body.ts'
import type { StatelessHttpTransport, StreamReply } from './stateless-http.ts'
import type { ConnectionControl, SseReply, StreamableHttpTransport } from './streamable-http.ts'

/** Which era serves a POST to /mcp. */
export type Era = 'modern' | 'legacy'

const META_VERSION_KEY = '"io.modelcontextprotocol/protocolVersion"'

/**
 * Chooses the era of a POST /mcp (`basic/versioning.mdx`). A 2026-07-28 request: an
 * `MCP-Protocol-Version` header naming a 2026 revision (any Mcp-Session-Id is ignored); without a
 * session, a header naming no 2025 revision or a body whose `_meta` names a protocol version (it
 * is served statelessly even when its version is unknown, so that it gets the modern errors).
 * Everything else (initialize, a session's traffic) is the 2025 era.
 */
export function classifyPost(headers: Headers, body: string): Era {
  const header = headers.get('mcp-protocol-version')?.trim()
  // A 2026 request ignores Mcp-Session-Id; a 2025 session keeps its own errors for other versions.
  if (header && isModernVersion(header)) return 'modern'
  if (headers.has('mcp-session-id')) return 'legacy'
  if (header && !isSupportedVersion(header)) return 'modern'
  // Cheap test first: a 2025 client's body never names the key, so most bodies parse once.
  if (!body.includes(META_VERSION_KEY)) return 'legacy'
  try {
    const value = JSON.parse(body) as { params?: Record<string, unknown> }
    return typeof value === 'object' &&
      value !== null &&
      !Array.isArray(value) &&
      metaProtocolVersion(value.params) !== undefined
      ? 'modern'
      : 'legacy'
  } catch {
    return 'legacy'
  }
}

export interface EraRouterOptions {
  streamable: StreamableHttpTransport
  stateless: StatelessHttpTransport
  maxBodyBytes: number
}

/** POST /mcp: reads the body once, classifies it and hands it to the era's transport. */
export class EraRouter {
  constructor(private readonly options: EraRouterOptions) {}

  async post(
    request: Request,
    owner: string,
    connection: ConnectionControl,
  ): Promise<Response | SseReply | StreamReply> {
    const { streamable, stateless, maxBodyBytes } = this.options
    // The header alone names a 2026 request (most of them): its body is read as JSON at once.
    const header = request.headers.get('mcp-protocol-version')?.trim()
    if (header && isModernVersion(header)) {
      let value: unknown
      try {
        value = await readBodyJson(request, maxBodyBytes)
      } catch (err) {
        // A body that is not JSON is refused where its text would be: after the Accept check.
        if (err instanceof ProtocolError && err.code === ErrorCode.ParseError) {
          return stateless.post(request, owner, { notJson: err }, connection)
        }
        return stateless.reject(err)
      }
      return stateless.post(request, owner, { value }, connection)
    }
    let body: string
    try {
      body = await readBodyText(request, maxBodyBytes)
    } catch (err) {
      return stateless.reject(err)
    }
    if (classifyPost(request.headers, body) === 'modern') {
      return stateless.post(request, owner, { text: body }, connection)
    }
    return streamable.post(request, owner, connection, body)
  }
}
