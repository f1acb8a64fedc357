import { openClientSession, type TransportKind } from '../loadtest/client-session.ts'
import { CLIENT_INFO } from '../loadtest/mcp-session.ts'
import { withTimeout } from '../loadtest/pool.ts'
import { readReply, STREAMABLE_PROTOCOL_VERSION } from '../loadtest/streamable-session.ts'

export type { TransportKind }

/** One MCP session the bench drives, whatever its transport. */
export interface RpcClient {
  /** Calls a tool; resolves with the round-trip latency in ms (POST sent to response received). */
  call(name: string, args: Record<string, unknown>): Promise<number>
  close(): void
}

const TIMEOUT_MS = 30_000
const ACCEPT = 'application/json, text/event-stream'

/**
 * The load tester's client sessions (raw SSE for the legacy transport, fetch for 2026-07-28);
 * for Streamable HTTP a fetch client of the bench's own, which also speaks to a server that
 * serves 2025 requests without a session (no `Mcp-Session-Id` after initialize).
 */
export async function openClient(kind: TransportKind, base: URL): Promise<RpcClient> {
  if (kind === 'streamable') return StreamableClient.open(base)
  const session = await openClientSession(kind, base, undefined, TIMEOUT_MS)
  return {
    call: async (name, args) => {
      const reply = await session.request('tools/call', { name, arguments: args }, TIMEOUT_MS)
      if (reply.message.error) throw new Error(reply.message.error.message)
      return reply.latencyMs
    },
    close: () => session.end(),
  }
}

class StreamableClient implements RpcClient {
  #nextId = 1

  private constructor(
    private readonly url: URL,
    private readonly headers: Record<string, string>,
  ) {}

  static async open(base: URL): Promise<StreamableClient> {
    const url = new URL('/mcp', base)
    const init = await StreamableClient.#post(
      url,
      {},
      {
        jsonrpc: '2.0',
        id: 0,
        method: 'initialize',
        params: {
          protocolVersion: STREAMABLE_PROTOCOL_VERSION,
          capabilities: {},
          clientInfo: CLIENT_INFO,
        },
      },
    )
    const reply = await readReply(init, 0, performance.now())
    if (reply.message.error) throw new Error(`initialize failed: ${reply.message.error.message}`)
    const headers: Record<string, string> = { 'mcp-protocol-version': STREAMABLE_PROTOCOL_VERSION }
    const sessionId = init.headers.get('mcp-session-id')
    if (sessionId) headers['mcp-session-id'] = sessionId
    const initialized = await StreamableClient.#post(url, headers, {
      jsonrpc: '2.0',
      method: 'notifications/initialized',
    })
    await initialized.arrayBuffer()
    return new StreamableClient(url, headers)
  }

  static #post(url: URL, headers: Record<string, string>, body: unknown): Promise<Response> {
    return withTimeout(
      fetch(url, {
        method: 'POST',
        headers: { 'content-type': 'application/json', accept: ACCEPT, ...headers },
        body: JSON.stringify(body),
      }),
      TIMEOUT_MS,
      'the response',
    )
  }

  async call(name: string, args: Record<string, unknown>): Promise<number> {
    const id = this.#nextId++
    const started = performance.now()
    const response = await StreamableClient.#post(this.url, this.headers, {
      jsonrpc: '2.0',
      id,
      method: 'tools/call',
      params: { name, arguments: args },
    })
    const reply = await withTimeout(readReply(response, id, started), TIMEOUT_MS, 'the reply')
    if (reply.message.error) throw new Error(reply.message.error.message)
    return reply.latencyMs
  }

  close(): void {
    if (!this.headers['mcp-session-id']) return
    void fetch(this.url, { method: 'DELETE', headers: this.headers })
      .then((r) => r.arrayBuffer())
      .catch(() => {})
  }
}
