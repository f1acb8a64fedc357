import { withTimeout } from './pool.ts'
import { SseConnection } from './sse-connection.ts'

interface Pending {
  resolve: (message: RpcReply) => void
  sentAt: number
}

export interface RpcReply {
  message: {
    id: number
    result?: Record<string, unknown>
    error?: { code: number; message: string }
  }
  latencyMs: number
}

export const CLIENT_INFO = { name: 'sluice-loadtest', version: '1.0.0' }

/**
 * An MCP client session over the legacy HTTP+SSE transport, on a raw SSE connection so that the
 * load tester can reset it at any moment. Latency is from POST sent to SSE message received.
 */
export class LegacyMcpSession {
  readonly #pending = new Map<number, Pending>()
  #nextId = 1

  private constructor(
    readonly connection: SseConnection,
    readonly postUrl: URL,
  ) {
    connection.onEvent = (event) => {
      if (event.event !== 'message') return
      const message = JSON.parse(event.data) as RpcReply['message']
      const pending = this.#pending.get(message.id)
      if (!pending) return
      this.#pending.delete(message.id)
      pending.resolve({ message, latencyMs: performance.now() - pending.sentAt })
    }
  }

  /**
   * Opens `GET /sse` (or `path`) and waits for the endpoint frame. With `postBase`, the session's
   * POSTs go to that instance instead (the endpoint's path and query, on another host:port).
   */
  static async open(
    base: URL,
    localAddress: string | undefined,
    timeoutMs: number,
    path = '/sse',
    postBase: URL = base,
  ) {
    const connection = new SseConnection({ base, path, ...(localAddress ? { localAddress } : {}) })
    try {
      const first = await withTimeout(connection.firstEvent, timeoutMs, 'the endpoint frame')
      if (first.event !== 'endpoint')
        throw new Error(`first event was '${first.event}', not 'endpoint'`)
      const endpoint = new URL(first.data, base)
      return new LegacyMcpSession(
        connection,
        new URL(endpoint.pathname + endpoint.search, postBase),
      )
    } catch (err) {
      connection.reset()
      throw err
    }
  }

  /** Sends a request; resolves when its response arrives on the stream. */
  async request(
    method: string,
    params: Record<string, unknown>,
    timeoutMs: number,
  ): Promise<RpcReply> {
    const id = this.#nextId++
    const reply = new Promise<RpcReply>((resolve) => {
      this.#pending.set(id, { resolve, sentAt: performance.now() })
    })
    try {
      await this.post({ jsonrpc: '2.0', id, method, params })
      return await withTimeout(reply, timeoutMs, `the response to ${method}`)
    } finally {
      this.#pending.delete(id)
    }
  }

  /** Sends a request and returns once the server accepted it (202), without waiting for the answer. */
  async send(method: string, params: Record<string, unknown>): Promise<void> {
    await this.post({ jsonrpc: '2.0', id: this.#nextId++, method, params })
  }

  async notify(method: string, params: Record<string, unknown> = {}): Promise<void> {
    await this.post({ jsonrpc: '2.0', method, params })
  }

  async initialize(timeoutMs: number): Promise<RpcReply> {
    const reply = await this.request(
      'initialize',
      { protocolVersion: '2024-11-05', capabilities: {}, clientInfo: CLIENT_INFO },
      timeoutMs,
    )
    if (reply.message.error) throw new Error(`initialize failed: ${reply.message.error.message}`)
    await this.notify('notifications/initialized')
    return reply
  }

  async post(message: Record<string, unknown>): Promise<void> {
    const response = await fetch(this.postUrl, {
      method: 'POST',
      headers: { 'content-type': 'application/json' },
      body: JSON.stringify(message),
    })
    await response.arrayBuffer()
    if (response.status !== 202) throw new Error(`POST answered ${response.status}`)
  }

  get pendingRequests(): number {
    return this.#pending.size
  }
}
