import { CLIENT_INFO, type RpcReply } from './mcp-session.ts'
import { withTimeout } from './pool.ts'
import { SseConnection } from './sse-connection.ts'
import { SseParser } from './sse-parser.ts'

const ACCEPT = 'application/json, text/event-stream'
export const STREAMABLE_PROTOCOL_VERSION = '2025-11-25'

/**
 * An MCP client session over Streamable HTTP (`/mcp`): requests are POSTs answered as JSON or
 * SSE; the standalone stream and stalled POST streams are raw SSE connections, so the load
 * tester can reset them in any phase.
 */
export class StreamableMcpSession {
  #nextId = 1

  private constructor(
    /** Where the session was created and its standalone stream is opened. */
    readonly base: URL,
    readonly sessionId: string,
    readonly protocolVersion: string,
    /** Where every later POST (and the DELETE) goes: `base`, or another instance. */
    readonly postBase: URL,
  ) {}

  /**
   * initialize on `base` (and notifications/initialized); the session id comes back in
   * Mcp-Session-Id. Every later request goes to `postBase`.
   */
  static async open(
    base: URL,
    timeoutMs: number,
    protocolVersion = STREAMABLE_PROTOCOL_VERSION,
    postBase: URL = base,
  ): Promise<StreamableMcpSession> {
    const started = performance.now()
    const response = await withTimeout(
      fetch(new URL('/mcp', base), {
        method: 'POST',
        headers: { 'content-type': 'application/json', accept: ACCEPT },
        body: JSON.stringify({
          jsonrpc: '2.0',
          id: 0,
          method: 'initialize',
          params: {
            protocolVersion,
            capabilities: {},
            clientInfo: CLIENT_INFO,
          },
        }),
      }),
      timeoutMs,
      'the initialize response',
    )
    const sessionId = response.headers.get('mcp-session-id')
    const reply = await readReply(response, 0, started)
    if (!sessionId || reply.message.error) {
      throw new Error(
        `initialize failed: HTTP ${response.status} ${reply.message.error?.message ?? 'without Mcp-Session-Id'}`,
      )
    }
    const session = new StreamableMcpSession(base, sessionId, protocolVersion, postBase)
    await session.#post({ jsonrpc: '2.0', method: 'notifications/initialized' }, 'application/json')
    return session
  }

  get headers(): Record<string, string> {
    return { 'mcp-session-id': this.sessionId, 'mcp-protocol-version': this.protocolVersion }
  }

  /** Sends a request; resolves with its response and the round-trip latency. */
  async request(
    method: string,
    params: Record<string, unknown>,
    timeoutMs: number,
  ): Promise<RpcReply> {
    const id = this.#nextId++
    const started = performance.now()
    const response = await withTimeout(
      this.#post({ jsonrpc: '2.0', id, method, params }, ACCEPT),
      timeoutMs,
      `the response to ${method}`,
    )
    return withTimeout(readReply(response, id, started), timeoutMs, `the response to ${method}`)
  }

  /**
   * Sends a request on a raw SSE POST stream and returns once the stream is open, leaving it to
   * the caller (who may stop reading it, or reset it mid-call).
   */
  async sendOnStream(
    method: string,
    params: Record<string, unknown>,
    timeoutMs: number,
    localAddress?: string,
  ) {
    const connection = new SseConnection({
      base: this.postBase,
      path: '/mcp',
      method: 'POST',
      headers: this.headers,
      body: JSON.stringify({ jsonrpc: '2.0', id: this.#nextId++, method, params }),
      ...(localAddress ? { localAddress } : {}),
    })
    // An SSE response head is enough: a priming event is optional (the SDK sends none).
    await withTimeout(connection.streaming, timeoutMs, 'the response stream')
    return connection
  }

  /**
   * Sends a batch of requests (2025-03-26 sessions only) on one raw POST and returns once it is
   * connected, without reading: every response then backs up on that one SSE stream, or (with
   * `accept` of JSON only) in that one JSON reply.
   */
  async sendBatchUnread(
    requests: Array<{ method: string; params: Record<string, unknown> }>,
    timeoutMs: number,
    localAddress?: string,
    accept = 'text/event-stream',
  ) {
    const body = requests.map((r) => ({
      jsonrpc: '2.0',
      id: this.#nextId++,
      method: r.method,
      params: r.params,
    }))
    const connection = new SseConnection({
      base: this.postBase,
      path: '/mcp',
      method: 'POST',
      headers: this.headers,
      body: JSON.stringify(body),
      accept,
      ...(localAddress ? { localAddress } : {}),
    })
    connection.stopReading()
    await withTimeout(connection.connected, timeoutMs, 'the connection')
    return connection
  }

  /** The session's standalone GET stream, on a raw connection. */
  openStream(localAddress: string | undefined, sendRequest = true): SseConnection {
    return new SseConnection({
      base: this.base,
      path: '/mcp',
      headers: this.headers,
      sendRequest,
      ...(localAddress ? { localAddress } : {}),
    })
  }

  /** Ends the session politely (DELETE). */
  async delete(): Promise<void> {
    const response = await fetch(new URL('/mcp', this.postBase), {
      method: 'DELETE',
      headers: this.headers,
    })
    await response.arrayBuffer()
  }

  #post(body: unknown, accept: string): Promise<Response> {
    return fetch(new URL('/mcp', this.postBase), {
      method: 'POST',
      headers: { 'content-type': 'application/json', accept, ...this.headers },
      body: JSON.stringify(body),
    })
  }
}

/** The response with `id` from a JSON body or an SSE body. */
export async function readReply(
  response: Response,
  id: number,
  started: number,
): Promise<RpcReply> {
  if (!response.ok) throw new Error(`POST /mcp answered ${response.status}`)
  const type = response.headers.get('content-type') ?? ''
  if (!type.includes('text/event-stream')) {
    return {
      message: (await response.json()) as RpcReply['message'],
      latencyMs: performance.now() - started,
    }
  }
  let found: RpcReply['message'] | undefined
  const parser = new SseParser((event) => {
    if (event.data === '') return // the priming event
    const message = JSON.parse(event.data) as RpcReply['message']
    if (message.id === id) found = message
  })
  const reader = response.body!.getReader()
  while (!found) {
    const { done, value } = await reader.read()
    if (done) break
    parser.feed(value)
  }
  await reader.cancel()
  if (!found) throw new Error(`the stream ended without the response to ${id}`)
  return { message: found, latencyMs: performance.now() - started }
}
