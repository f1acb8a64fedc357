import type { InputChannel } from './context.ts'
import type { JsonRpcMessage, RequestId } from './jsonrpc.ts'
import type { PendingCalls } from './pending-calls.ts'
import type { AnyProtocolVersion } from './versions.ts'

/** Where a session is in the MCP lifecycle. */
export interface PeerState {
  /** Set when initialize has been answered, or from a 2026 request's `_meta`. */
  protocolVersion: AnyProtocolVersion | undefined
  /** Set by notifications/initialized. */
  clientReady: boolean
  clientInfo: { name: string; version: string } | undefined
  /** What the client declared at initialize (`sampling`, `elicitation`, `roots`, ...). */
  clientCapabilities?: Readonly<Record<string, unknown>> | undefined
  /**
   * What the server announced to this session at initialize. A session is told only of what it
   * was announced: list_changed for a kind it was not told `listChanged` about is not sent.
   */
  serverCapabilities?: Readonly<Record<string, unknown>> | undefined
  /** The lowest `notifications/message` level the client asked for (logging/setLevel). */
  logLevel?: string | undefined
}

/**
 * What the dispatcher needs of a session. The session layer implements it, so the protocol
 * never depends on how sessions or transports work.
 */
export interface McpPeer {
  readonly sessionId: string
  readonly state: PeerState
  readonly calls: PendingCalls
  /** True from the moment the session starts closing. */
  readonly isClosed: boolean
  /** Aborts when the session has closed, whichever way; everything the protocol holds for it hangs on this. */
  readonly signal: AbortSignal
  /**
   * Queues a message for the client; false when it could not be queued. A notification about a
   * request (progress) names it in `relatedTo`, so it travels on that request's stream.
   */
  send(message: JsonRpcMessage, relatedTo?: RequestId): boolean
  /**
   * Ends the connection carrying this request's stream, keeping its events for the client's
   * reconnect; false where the transport cannot (legacy SSE, JSON replies, older sessions).
   */
  closeStreamOf?(id: RequestId): boolean
  /**
   * Charges (negative: releases) bytes the protocol holds for this session outside its queues,
   * such as subscribed URIs, to the session's ledger and the server-wide buffer budget. The
   * caller releases what it charged, once, at the latest when `signal` aborts.
   */
  chargeTransit(deltaBytes: number): void
  /** The request ended without a response (cancelled): nothing waits for one any more. */
  endWithoutResponse(id: RequestId): void
  /**
   * How this peer's input requests travel, when not as server-to-client requests on a session
   * (a 2026-07-28 request's multi-round-trip channel).
   */
  readonly input?: InputChannel
}
