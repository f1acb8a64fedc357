import { CLIENT_INFO, LegacyMcpSession } from '../loadtest/mcp-session.ts'
import { SseParser } from '../loadtest/sse-parser.ts'

/** One MCP session the bench drives, whatever its transport. */
export interface RpcClient {
  /** Calls a tool; resolves with the round-trip latency in ms (POST sent to response received). */
  call(name: string, args: Record<string, unknown>): Promise<number>
  close(): void
}

export type TransportKind = 'sse' | 'streamable'

const TIMEOUT_MS = 30_000

export async function openClient(kind: TransportKind, base: URL): Promise<RpcClient> {
  return kind === 'sse' ? LegacyClient.open(base) : StreamableClient.open(base)
}

class LegacyClient implements RpcClient {
  private constructor(private readonly session: LegacyMcpSession) {}

  static async open(base: URL): Promise<LegacyClient> {
    const session = await LegacyMcpSession.open(base, undefined, TIMEOUT_MS)
    await session.initialize(TIMEOUT_MS)
    return new LegacyClient(session)
  }

  async call(name: string, args: Record<string, unknown>): Promise<number> {
    const reply = await this.session.request('tools/call', { name, arguments: args }, TIMEOUT_MS)
    if (reply.message.error) throw new Error(reply.message.error.message)
    return reply.latencyMs
  }

  close(): void {
    this.session.connection.reset()
  }
}

const ACCEPT = 'application/json, text/event-stream'
const PROTOCOL_VERSION = '2025-06-18'

/** A minimal Streamable HTTP client: JSON or SSE responses to POST /mcp, DELETE to close. */
class StreamableClient implements RpcClient {
  #nextId = 1
  private constructor(
    private readonly url: URL,
    private readonly sessionId: string,
  ) {}

  static async open(base: URL): Promise<StreamableClient> {
    const url = new URL('/mcp', base)
    const response = await fetch(url, {
      method: 'POST',
      headers: { 'content-type': 'application/json', accept: ACCEPT },
      body: JSON.stringify({
        jsonrpc: '2.0',
        id: 0,
        method: 'initialize',
        params: { protocolVersion: PROTOCOL_VERSION, capabilities: {}, clientInfo: CLIENT_INFO },
      }),
    })
    const sessionId = response.headers.get('mcp-session-id')
    await readResponse(response, 0)
    if (!sessionId) throw new Error(`initialize answered ${response.status} without Mcp-Session-Id`)
    const client = new StreamableClient(url, sessionId)
    await client.#post({ jsonrpc: '2.0', method: 'notifications/initialized' })
    return client
  }

  async call(name: string, args: Record<string, unknown>): Promise<number> {
    const id = this.#nextId++
    const started = performance.now()
    const response = await this.#post({
      jsonrpc: '2.0',
      id,
      method: 'tools/call',
      params: { name, arguments: args },
    })
    const message = await readResponse(response, id)
    if (message.error) throw new Error(message.error.message)
    return performance.now() - started
  }

  close(): void {
    void fetch(this.url, { method: 'DELETE', headers: this.#headers() }).then(
      (r) => r.arrayBuffer(),
      () => undefined,
    )
  }

  #headers(): Record<string, string> {
    return {
      'content-type': 'application/json',
      accept: ACCEPT,
      'mcp-session-id': this.sessionId,
      'mcp-protocol-version': PROTOCOL_VERSION,
    }
  }

  #post(body: unknown): Promise<Response> {
    return fetch(this.url, { method: 'POST', headers: this.#headers(), body: JSON.stringify(body) })
  }
}

interface RpcMessage {
  id?: number
  result?: unknown
  error?: { message: string }
}

/** The JSON-RPC response with `id`, from a JSON body or from an SSE body. */
async function readResponse(response: Response, id: number): Promise<RpcMessage> {
  if (!response.ok)
    throw new Error(`POST /mcp answered ${response.status}: ${await response.text()}`)
  if (!(response.headers.get('content-type') ?? '').includes('text/event-stream')) {
    return (await response.json()) as RpcMessage
  }
  let found: RpcMessage | undefined
  const parser = new SseParser((event) => {
    const message = JSON.parse(event.data) as RpcMessage
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
  return found
}
