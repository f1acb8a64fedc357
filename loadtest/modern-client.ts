import { CLIENT_INFO, type RpcReply } from './mcp-session.ts'
import { withTimeout } from './pool.ts'
import { SseConnection } from './sse-connection.ts'
import { readReply } from './streamable-session.ts'

export const MODERN_PROTOCOL_VERSION = '2026-07-28'
const ACCEPT_BOTH = 'application/json, text/event-stream'

/** Per-request `_meta` of a 2026-07-28 request. */
const META = {
  'io.modelcontextprotocol/protocolVersion': MODERN_PROTOCOL_VERSION,
  'io.modelcontextprotocol/clientInfo': CLIENT_INFO,
  'io.modelcontextprotocol/clientCapabilities': {},
}

/** A 2026-07-28 request body and the SEP-2243 headers that mirror it. */
export function modernRequest(
  id: number,
  method: string,
  params: Record<string, unknown>,
  accept = ACCEPT_BOTH,
): { headers: Record<string, string>; body: string } {
  const headers: Record<string, string> = {
    accept,
    'mcp-protocol-version': MODERN_PROTOCOL_VERSION,
    'mcp-method': method,
  }
  if (typeof params.name === 'string') headers['mcp-name'] = params.name
  const body = JSON.stringify({ jsonrpc: '2.0', id, method, params: { ...params, _meta: META } })
  return { headers, body }
}

/**
 * An MCP 2026-07-28 client: no session and no handshake, every request its own POST. Streams it
 * may abort (a call answered as SSE, a `subscriptions/listen` stream) are raw connections.
 */
export class ModernMcpClient {
  #nextId = 1

  constructor(readonly base: URL) {}

  /** One request; resolves with its response (JSON or SSE) and the round-trip latency. */
  async request(
    method: string,
    params: Record<string, unknown>,
    timeoutMs: number,
  ): Promise<RpcReply> {
    const id = this.#nextId++
    const { headers, body } = modernRequest(id, method, params)
    const started = performance.now()
    const response = await withTimeout(
      fetch(new URL('/mcp', this.base), {
        method: 'POST',
        headers: { 'content-type': 'application/json', ...headers },
        body,
      }),
      timeoutMs,
      `the response to ${method}`,
    )
    return withTimeout(readReply(response, id, started), timeoutMs, `the response to ${method}`)
  }

  /**
   * A request on a raw connection. With `accept` text/event-stream only, the server answers SSE at
   * once (its first frame before the call ends); with both, nothing comes until the result.
   */
  open(
    method: string,
    params: Record<string, unknown>,
    localAddress: string | undefined,
    accept = ACCEPT_BOTH,
    sendRequest = true,
  ): SseConnection {
    const { headers, body } = modernRequest(this.#nextId++, method, params, accept)
    const { accept: _accept, ...rest } = headers
    return new SseConnection({
      base: this.base,
      path: '/mcp',
      method: 'POST',
      accept,
      headers: rest,
      body,
      sendRequest,
      ...(localAddress ? { localAddress } : {}),
    })
  }

  /** A `subscriptions/listen` stream for tool list changes; its first event is the ack. */
  listen(localAddress: string | undefined, sendRequest = true): SseConnection {
    const filter = { notifications: { toolsListChanged: true } }
    return this.open('subscriptions/listen', filter, localAddress, 'text/event-stream', sendRequest)
  }
}
