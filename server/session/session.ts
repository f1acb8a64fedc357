import type { CloseReason } from '../observability/server-metrics.ts'
import type { JsonRpcMessage, RequestId } from '../protocol/jsonrpc.ts'
import type { McpPeer, PeerState } from '../protocol/peer.ts'
import { PendingCalls } from '../protocol/pending-calls.ts'
import type { KEEPALIVE } from './event-stream.ts'
import { EventStream, type StreamEvent } from './event-stream.ts'
import { StreamPacer } from './stream-pacer.ts'

export interface SessionLimits {
  maxQueueMessages: number
  maxQueueBytes: number
  keepaliveMs: number
  sendDeadlineMs: number
  idleTtlMs: number
  /** Sent events each stream keeps for `Last-Event-ID` replay (Streamable HTTP). */
  replayEvents: number
  /** Finished response streams kept for replay; the oldest are released past this. */
  retainedStreams: number
}

/** How a session reports its life to its owner (the registry). */
export interface SessionEvents {
  streamOpened(session: Session): void
  streamClosed(session: Session): void
  sent(session: Session, kind: 'message' | 'keepalive'): void
  dropped(session: Session, count: number): void
  closed(session: Session, reason: CloseReason): void
}

export interface SessionOptions {
  id: string
  limits: SessionLimits
  events: SessionEvents
  /** Legacy HTTP+SSE: the session is its stream, so the end of the stream ends the session. */
  endsWithStream: boolean
  /** The auth identity that created the session; only it may use the session. */
  owner: string
}

/** Stream 0 carries what is not a response to a request on its own stream. */
export const STANDALONE_STREAM = 0

/**
 * One MCP session and everything it holds: its event streams (bounded, with replay windows),
 * their keepalive and deadline timers, the idle-TTL timer and pending tool calls. `close`
 * releases all of them exactly once, whichever path ends the session.
 */
export class Session implements McpPeer {
  readonly sessionId: string
  readonly owner: string
  readonly createdAt = Date.now()
  readonly state: PeerState = {
    protocolVersion: undefined,
    clientReady: false,
    clientInfo: undefined,
  }
  readonly calls = new PendingCalls()
  readonly standalone: EventStream
  readonly #streams = new Map<number, EventStream>()
  readonly #pacers = new Map<EventStream, StreamPacer>()
  /** Requests whose responses go to a stream of their own (Streamable HTTP POST). */
  readonly #routes = new Map<RequestId, EventStream>()
  readonly #routeCounts = new Map<EventStream, number>()
  readonly #closed = new AbortController()
  #nextStream = STANDALONE_STREAM + 1
  #closeReason: CloseReason | undefined
  #idleTimer: Timer | undefined

  constructor(private readonly options: SessionOptions) {
    this.sessionId = options.id
    this.owner = options.owner
    this.standalone = this.#newStream(STANDALONE_STREAM)
    this.#armIdleTimer()
  }

  get id(): string {
    return this.sessionId
  }

  get isClosed(): boolean {
    return this.#closeReason !== undefined
  }

  get closeReason(): CloseReason | undefined {
    return this.#closeReason
  }

  /** Aborts when the session closes; its reason is the CloseReason. */
  get signal(): AbortSignal {
    return this.#closed.signal
  }

  /** Whether a reader is attached to `stream` (the standalone stream by default). */
  isAttached(stream: EventStream = this.standalone): boolean {
    return this.#pacers.has(stream)
  }

  /** Messages not yet handed to any reader. */
  get queuedMessages(): number {
    let total = 0
    for (const s of this.#streams.values()) total += s.unsent
    return total
  }

  /**
   * Queues a message for the client: a response to a routed request on that request's stream,
   * anything else on the standalone stream. A full stream closes the session (`queue_full`).
   */
  send(message: JsonRpcMessage, relatedTo?: RequestId): boolean {
    const id = responseId(message)
    const routeId = id ?? relatedTo
    const route = routeId === undefined ? undefined : this.#routes.get(routeId)
    const stream = route ?? this.standalone
    const outcome = stream.push(JSON.stringify(message))
    if (route && id !== undefined) this.#settleRoute(id, route)
    if (outcome === 'queued') return true
    this.options.events.dropped(this, 1)
    if (outcome === 'full') this.close('queue_full')
    return false
  }

  /** Whether a request with this id is still waiting for its response on a stream of its own. */
  isRouted(id: RequestId): boolean {
    return this.#routes.has(id)
  }

  /** A new stream for the responses to `requestIds`; it ends once they are all answered. */
  openResponseStream(requestIds: readonly RequestId[]): EventStream {
    const stream = this.#newStream(this.#nextStream++)
    for (const id of requestIds) this.#routes.set(id, stream)
    this.#routeCounts.set(stream, requestIds.length)
    if (requestIds.length === 0) stream.end()
    this.#releaseOldStreams()
    return stream
  }

  /** Streams retained now (the standalone one included). */
  get streamCount(): number {
    return this.#streams.size
  }

  /** A stream of this session by number, while it is retained. */
  stream(number: number): EventStream | undefined {
    return this.#streams.get(number)
  }

  /** Any request from the client counts as activity for the idle TTL. */
  touch(): void {
    if (this.#pacers.size === 0 && !this.isClosed) this.#armIdleTimer()
  }

  /** Attaches a reader to `stream`; false when one is attached already or the session is closed. */
  attach(stream: EventStream = this.standalone): boolean {
    if (this.#pacers.has(stream) || this.isClosed || stream.closed) return false
    clearTimeout(this.#idleTimer)
    this.#idleTimer = undefined
    const { keepaliveMs, sendDeadlineMs } = this.options.limits
    this.#pacers.set(
      stream,
      new StreamPacer({
        keepaliveMs,
        sendDeadlineMs,
        onQuiet: () => stream.offerKeepalive(),
        onDeadline: () => this.close('send_deadline'),
      }),
    )
    this.options.events.streamOpened(this)
    return true
  }

  /** The next event of `stream` without waiting, if any. */
  take(stream: EventStream): StreamEvent | undefined {
    return stream.take()
  }

  /** Waits for an event, a keepalive, or the stream's end or the session's close (null). */
  wait(stream: EventStream): Promise<StreamEvent | typeof KEEPALIVE | null> {
    return stream.wait()
  }

  /** The stream generator yielded a frame of this kind to its reader. */
  frameHandedOver(stream: EventStream, kind: 'message' | 'keepalive' | 'control'): void {
    this.#pacers.get(stream)?.frameHandedOver()
    if (kind !== 'control') this.options.events.sent(this, kind)
  }

  /** The reader took the last frame (the generator was resumed). */
  frameTaken(stream: EventStream): void {
    this.#pacers.get(stream)?.frameTaken()
  }

  /**
   * The reader of `stream` is gone (client left, or the stream ended). Ends the session if it
   * lives with its stream; otherwise the session waits for a reconnect until its idle TTL.
   */
  detach(stream: EventStream = this.standalone): void {
    const pacer = this.#pacers.get(stream)
    if (!pacer) return
    pacer.stop()
    this.#pacers.delete(stream)
    // A generator parked on this stream must not wait for the next event to notice.
    stream.release()
    this.options.events.streamClosed(this)
    if (stream !== this.standalone) this.#releaseOldStreams()
    if (this.options.endsWithStream && stream === this.standalone) this.close('client_abort')
    else if (!this.isClosed && this.#pacers.size === 0) this.#armIdleTimer()
  }

  /** Closes the session once: drops its streams, stops its timers, cancels its calls. */
  close(reason: CloseReason): void {
    if (this.#closeReason) return
    this.#closeReason = reason
    clearTimeout(this.#idleTimer)
    this.#idleTimer = undefined
    let dropped = 0
    for (const stream of this.#streams.values()) dropped += stream.close()
    if (dropped > 0) this.options.events.dropped(this, dropped)
    this.calls.cancelAll(`session ${this.sessionId} closed: ${reason}`)
    for (const pacer of this.#pacers.values()) {
      pacer.stop()
      this.options.events.streamClosed(this)
    }
    this.#pacers.clear()
    this.#routes.clear()
    this.#routeCounts.clear()
    this.#streams.clear()
    this.#closed.abort(reason)
    this.options.events.closed(this, reason)
  }

  #newStream(number: number): EventStream {
    const { maxQueueMessages, maxQueueBytes, replayEvents } = this.options.limits
    const stream = new EventStream(number, {
      maxMessages: maxQueueMessages,
      maxBytes: maxQueueBytes,
      // A legacy stream cannot be resumed: it keeps nothing once sent.
      replayEvents: this.options.endsWithStream ? 0 : replayEvents,
    })
    this.#streams.set(number, stream)
    return stream
  }

  #settleRoute(id: RequestId, stream: EventStream): void {
    this.#routes.delete(id)
    const left = (this.#routeCounts.get(stream) ?? 1) - 1
    if (left > 0) {
      this.#routeCounts.set(stream, left)
      return
    }
    this.#routeCounts.delete(stream)
    stream.end()
    this.#releaseOldStreams()
  }

  /**
   * Keeps at most `retainedStreams` ended response streams nobody reads (kept for replay). A
   * client that keeps opening POST streams and leaving them unread cannot grow the session:
   * past the bound the oldest are released, and any response still unsent in them is dropped.
   */
  #releaseOldStreams(): void {
    const idle = (s: EventStream) =>
      s.number !== STANDALONE_STREAM && s.ended && !this.#pacers.has(s)
    let excess = -this.options.limits.retainedStreams
    for (const s of this.#streams.values()) if (idle(s)) excess++
    for (const [number, s] of this.#streams) {
      if (excess <= 0) break
      if (!idle(s)) continue
      const dropped = s.close()
      if (dropped > 0) this.options.events.dropped(this, dropped)
      this.#streams.delete(number)
      excess--
    }
  }

  /** (Re)starts the idle TTL; refreshing the one timer, not allocating one per request. */
  #armIdleTimer(): void {
    if (this.#idleTimer) {
      this.#idleTimer.refresh()
      return
    }
    this.#idleTimer = setTimeout(() => this.close('idle_ttl'), this.options.limits.idleTtlMs)
    this.#idleTimer.unref()
  }
}

/** The id of a response (result or error) message; undefined for requests and notifications. */
function responseId(message: JsonRpcMessage): RequestId | undefined {
  if ('method' in message || !('id' in message) || message.id === null) return undefined
  return message.id
}
