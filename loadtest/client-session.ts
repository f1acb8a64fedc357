import { LegacyMcpSession, type RpcReply } from './mcp-session.ts'
import { ModernMcpClient } from './modern-client.ts'
import { withTimeout } from './pool.ts'
import type { SessionRef } from './session-check.ts'
import { SseConnection } from './sse-connection.ts'
import { STREAMABLE_PROTOCOL_VERSION, StreamableMcpSession } from './streamable-session.ts'
import type { Route } from './target.ts'

/** legacy HTTP+SSE, Streamable HTTP with a 2025 session, or stateless MCP 2026-07-28. */
export type TransportKind = 'sse' | 'streamable' | 'modern'

/** One MCP client session, whichever transport carries it. */
export interface ClientSession {
  request(method: string, params: Record<string, unknown>, timeoutMs: number): Promise<RpcReply>
  /** Starts a tool call, then vanishes with a TCP reset while it runs. */
  callAndVanish(name: string, args: Record<string, unknown>, timeoutMs: number): Promise<void>
  /**
   * Stops reading while the server is pushed `count` large responses (echo of `message`); returns
   * once they are sent or the server refuses more (it evicted the session).
   */
  stallUnderPushes(message: string, count: number, timeoutMs: number): Promise<void>
  /** Leaves politely: the legacy stream is closed, a Streamable HTTP session is DELETEd. */
  end(): void
  /** How to reach this session again, for the reap check (none in the 2026 era). */
  readonly ref: SessionRef | undefined
}

/** One server, or a route over two instances (the stream on one, the POSTs on another). */
export type Where = URL | Route

const routeOf = (where: Where): Route =>
  where instanceof URL ? { streamBase: where, postBase: where } : where

/**
 * Opens and initializes a session. `batches` asks for a Streamable HTTP session that may send
 * JSON-RPC batches (it negotiates 2025-03-26, the only revision that has them). A 2026-07-28
 * client has no stream to keep: it talks to the route's POST instance.
 */
export async function openClientSession(
  kind: TransportKind,
  where: Where,
  localAddress: string | undefined,
  timeoutMs: number,
  batches = false,
): Promise<ClientSession> {
  const { streamBase, postBase } = routeOf(where)
  if (kind === 'sse') {
    const session = await LegacyMcpSession.open(
      streamBase,
      localAddress,
      timeoutMs,
      '/sse',
      postBase,
    )
    try {
      await session.initialize(timeoutMs)
    } catch (err) {
      session.connection.reset()
      throw err
    }
    return new LegacyClientSession(session)
  }
  if (kind === 'modern') {
    // No session to keep: with two instances on the route, the client's requests alternate.
    const clients = [new ModernMcpClient(postBase)]
    if (streamBase.href !== postBase.href) clients.push(new ModernMcpClient(streamBase))
    return new ModernClientSession(clients, localAddress)
  }
  const version = batches ? '2025-03-26' : STREAMABLE_PROTOCOL_VERSION
  return new StreamableClientSession(
    await StreamableMcpSession.open(streamBase, timeoutMs, version, postBase),
    localAddress,
  )
}

class LegacyClientSession implements ClientSession {
  constructor(private readonly session: LegacyMcpSession) {}

  get ref(): SessionRef {
    return { kind: 'sse', postUrl: this.session.postUrl }
  }

  request(method: string, params: Record<string, unknown>, timeoutMs: number): Promise<RpcReply> {
    return this.session.request(method, params, timeoutMs)
  }

  async callAndVanish(name: string, args: Record<string, unknown>): Promise<void> {
    try {
      await this.session.send('tools/call', { name, arguments: args })
    } finally {
      this.session.connection.reset()
    }
  }

  async stallUnderPushes(message: string, count: number): Promise<void> {
    this.session.connection.stopReading()
    for (let i = 0; i < count; i++) {
      try {
        await this.session.send('tools/call', { name: 'echo', arguments: { message } })
      } catch {
        return // 404: the server has already evicted this session.
      }
    }
  }

  end(): void {
    this.session.connection.reset()
  }
}

class StreamableClientSession implements ClientSession {
  readonly #stalled: SseConnection[] = []

  constructor(
    private readonly session: StreamableMcpSession,
    private readonly localAddress: string | undefined,
  ) {}

  get ref(): SessionRef {
    return streamableRef(this.session)
  }

  request(method: string, params: Record<string, unknown>, timeoutMs: number): Promise<RpcReply> {
    return this.session.request(method, params, timeoutMs)
  }

  async callAndVanish(
    name: string,
    args: Record<string, unknown>,
    timeoutMs: number,
  ): Promise<void> {
    const stream = await this.session.sendOnStream(
      'tools/call',
      { name, arguments: args },
      timeoutMs,
      this.localAddress,
    )
    // Leaving a POST stream is not a cancellation: the session is abandoned, and its idle TTL
    // must reap it (and cancel the call).
    stream.reset()
  }

  async stallUnderPushes(message: string, count: number, timeoutMs: number): Promise<void> {
    // Two replies nobody reads, each a batch carrying every response: one SSE stream, which backs
    // up like a stalled reader's standalone stream would, and one JSON body.
    const requests = () =>
      Array.from({ length: count }, () => ({
        method: 'tools/call',
        params: { name: 'echo', arguments: { message } },
      }))
    for (const accept of ['text/event-stream', 'application/json']) {
      this.#stalled.push(
        await this.session.sendBatchUnread(requests(), timeoutMs, this.localAddress, accept),
      )
    }
  }

  end(): void {
    for (const stream of this.#stalled) stream.reset()
    void this.session.delete().catch(() => {})
  }
}

/**
 * A 2026-07-28 client: no session; what the server holds is per request and per listen stream.
 * Given several instances, it takes them in turn, one request each.
 */
class ModernClientSession implements ClientSession {
  #next = 0

  constructor(
    private readonly clients: readonly ModernMcpClient[],
    private readonly localAddress: string | undefined,
  ) {}

  get ref(): undefined {
    return undefined
  }

  get #client(): ModernMcpClient {
    return this.clients[this.#next++ % this.clients.length] as ModernMcpClient
  }

  request(method: string, params: Record<string, unknown>, timeoutMs: number): Promise<RpcReply> {
    return this.#client.request(method, params, timeoutMs)
  }

  /** The call's SSE stream opens at once (its first frame); the reset mid-call cancels it. */
  async callAndVanish(
    name: string,
    args: Record<string, unknown>,
    timeoutMs: number,
  ): Promise<void> {
    const params = { name, arguments: args }
    const connection = this.#client.open(
      'tools/call',
      params,
      this.localAddress,
      'text/event-stream',
    )
    try {
      await withTimeout(connection.streaming, timeoutMs, "the call's response stream")
    } finally {
      connection.reset()
    }
  }

  async stallUnderPushes(): Promise<void> {
    throw new Error(
      'slow is not a scenario of the 2026-07-28 era: nothing is pushed without a request',
    )
  }

  end(): void {}
}

/** An SSE stream of a session: the legacy `/sse` stream, or a Streamable HTTP session's GET stream. */
export interface OpenedStream {
  connection: SseConnection
  /**
   * Resolves when the stream is open: the endpoint frame of a legacy stream (the spec requires
   * it), the 200 `text/event-stream` head of a Streamable HTTP GET stream (no event required).
   */
  opened: Promise<void>
  /** The session, once known (a legacy session is named by its endpoint frame). */
  ref(): SessionRef | undefined
  /** Leaves politely (a Streamable HTTP session is DELETEd). */
  end(): void
  /** Vanishes: a TCP reset, and nothing more. */
  vanish(): void
}

export async function openSessionStream(
  kind: TransportKind,
  where: Where,
  localAddress: string | undefined,
  timeoutMs: number,
  sendRequest = true,
): Promise<OpenedStream> {
  const { streamBase: base, postBase } = routeOf(where)
  if (kind === 'sse') {
    const connection = new SseConnection({
      base,
      path: '/sse',
      sendRequest,
      ...(localAddress ? { localAddress } : {}),
    })
    let ref: SessionRef | undefined
    const opened = connection.firstEvent.then((event) => {
      if (event.event !== 'endpoint') {
        throw new Error(`first event was '${event.event}', not 'endpoint'`)
      }
      const endpoint = new URL(event.data, base)
      ref = { kind: 'sse', postUrl: new URL(endpoint.pathname + endpoint.search, postBase) }
    })
    opened.catch(() => {})
    return {
      connection,
      opened,
      ref: () => ref,
      end: () => connection.reset(),
      vanish: () => connection.reset(),
    }
  }
  if (kind === 'modern') {
    // The 2026 era's long-lived stream: subscriptions/listen, opened by its acknowledgement.
    const connection = new ModernMcpClient(base).listen(localAddress, sendRequest)
    const opened = connection.firstEvent.then((event) => {
      if (!event.data.includes('notifications/subscriptions/acknowledged')) {
        throw new Error('the first event of the listen stream was not its acknowledgement')
      }
    })
    opened.catch(() => {})
    return {
      connection,
      opened,
      ref: () => undefined,
      end: () => connection.reset(),
      vanish: () => connection.reset(),
    }
  }
  const session = await StreamableMcpSession.open(
    base,
    timeoutMs,
    STREAMABLE_PROTOCOL_VERSION,
    postBase,
  )
  const connection = session.openStream(localAddress, sendRequest)
  return {
    connection,
    opened: connection.streaming,
    ref: () => streamableRef(session),
    end: () => {
      connection.reset()
      void session.delete().catch(() => {})
    },
    vanish: () => connection.reset(),
  }
}

function streamableRef(session: StreamableMcpSession): SessionRef {
  return {
    kind: 'streamable',
    base: session.postBase,
    sessionId: session.sessionId,
    protocolVersion: session.protocolVersion,
  }
}
