import type { CloseReason } from '../observability/server-metrics.ts'
import type { JsonRpcMessage, RequestId } from '../protocol/jsonrpc.ts'
import type { McpPeer, PeerState } from '../protocol/peer.ts'
import { PendingCalls } from '../protocol/pending-calls.ts'
import type { BufferBudget } from './buffer-budget.ts'
import type { KEEPALIVE, StreamLedger } from './event-stream.ts'
import { EventStream, type StreamEvent } from './event-stream.ts'
import { Pacer, type PacerTiming } from './stream-pacer.ts'
import { timerWheel, type WheelEntry } from './timer-wheel.ts'

export interface SessionLimits {
  /** Unsent messages one stream may hold. */
  maxQueueMessages: number
  /** Unsent bytes the whole session (all its streams) may hold. */
  maxQueueBytes: number
  keepaliveMs: number
  sendDeadlineMs: number
  idleTtlMs: number
  /** Sent events each stream keeps for `Last-Event-ID` replay (Streamable HTTP). */
  replayEvents: number
  /** Bytes of sent events the whole session keeps for replay; the oldest are forgotten past this. */
  replayBytes: number
  /** Response streams left unfinished by their reader, kept for replay; the oldest are released. */
  retainedStreams: number
}

/** How a session reports its life to its owner (the registry). */
export interface SessionEvents {
  streamOpened(session: Session): void
  streamClosed(session: Session): void
  sent(session: Session, kind: 'message' | 'keepalive'): void
  dropped(session: Session, count: number): void
  /** One stream (not the session) was evicted: its reader stopped taking frames. */
  streamEvicted(session: Session): void
  /** The server-wide buffer budget is exceeded after this session queued a message. */
  overBudget(session: Session): void
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
  /** The server-wide budget every byte the session holds is charged to. */
  budget: BufferBudget
}

/** Stream 0 carries what is not a response to a request on its own stream. */
export const STANDALONE_STREAM = 0

/**
 * One MCP session and everything it holds: its event streams (bounded, with replay windows),
 * their readers' pacing, its idle TTL (both on the process's timer wheel) and pending tool calls.
 * `close` releases all of them exactly once, whichever path ends the session.
 */
export class Session implements McpPeer, StreamLedger, WheelEntry {
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
  readonly #pacers = new Map<EventStream, AttachedReader>()
  /** Requests whose responses go to a stream of their own (Streamable HTTP POST). */
  readonly #routes = new Map<RequestId, EventStream>()
  readonly #routeCounts = new Map<EventStream, number>()
  readonly #closed = new AbortController()
  /** Bytes held over all streams: unsent plus kept for replay. */
  #heldBytes = 0
  #unsentBytes = 0
  /** Bytes handed to the HTTP layer in pieces that its reader has not taken yet. */
  #transitBytes = 0
  /** Response streams whose reply is being built as one JSON body for a client still there. */
  readonly #jsonReaders = new Set<EventStream>()
  #nextStream = STANDALONE_STREAM + 1
  #closeReason: CloseReason | undefined
  /** Last request, or last reader gone (performance.now()): the idle TTL counts from here. */
  #lastActiveAt = performance.now()
  /** WheelEntry: the idle TTL's place on the timer wheel. */
  wheelTick = -1

  constructor(private readonly options: SessionOptions) {
    this.sessionId = options.id
    this.owner = options.owner
    this.standalone = this.#newStream(STANDALONE_STREAM)
    timerWheel.schedule(this, this.#lastActiveAt + options.limits.idleTtlMs)
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

  /**
   * Bytes this session holds now (unsent, kept for replay, and on their way out), charged to the
   * server budget.
   */
  get heldBytes(): number {
    return this.#heldBytes + this.#transitBytes
  }

  /** Bytes kept for replay only: what can be forgotten without losing anything unsent. */
  get replayBytes(): number {
    return this.#heldBytes - this.#unsentBytes
  }

  /**
   * Charges (or, negative, releases) bytes that left the queues but are still held on their way
   * out: a large frame handed over in pieces, or a large JSON reply. Over the server budget the
   * registry sheds load as for queued bytes.
   */
  chargeTransit(deltaBytes: number): void {
    this.#transitBytes += deltaBytes
    this.options.budget.adjust(deltaBytes)
    if (deltaBytes > 0 && this.options.budget.exceeded) this.options.events.overBudget(this)
  }

  /**
   * Calls in flight whose answer someone can still receive: a legacy session's (its stream lives
   * with it), or those whose response stream has a reader or a JSON reply waiting for it. A drain
   * waits for these, not for calls whose client left.
   */
  get reachableCalls(): number {
    if (this.options.endsWithStream || this.#routes.size === 0) return this.calls.size
    let total = 0
    for (const [id, stream] of this.#routes) {
      if (this.calls.has(id) && (this.#pacers.has(stream) || this.#jsonReaders.has(stream))) total++
    }
    return total
  }

  /** A JSON reply is being built on `stream` for a client that is there (false: it left). */
  setJsonReader(stream: EventStream, present: boolean): void {
    if (present) this.#jsonReaders.add(stream)
    else this.#jsonReaders.delete(stream)
  }

  /** Messages not yet handed to a reader, on any stream. */
  get unsentMessages(): number {
    let total = 0
    for (const s of this.#streams.values()) total += s.unsent
    return total
  }

  /** Messages waiting for a reader that is attached (what a graceful drain waits for). */
  get deliverableMessages(): number {
    let total = 0
    for (const s of this.#pacers.keys()) total += s.unsent
    return total
  }

  /** StreamLedger: every byte any of the session's streams holds is counted here, once. */
  adjust(heldDelta: number, unsentDelta: number): void {
    this.#heldBytes += heldDelta
    this.#unsentBytes += unsentDelta
    this.options.budget.adjust(heldDelta)
    // Sending moves bytes into replay windows: keep the session's replay within its bound.
    if (unsentDelta < 0) {
      const excess = this.#heldBytes - this.#unsentBytes - this.options.limits.replayBytes
      if (excess > 0) this.forgetReplay(excess)
    }
  }

  /**
   * Queues a message for the client: a response to a routed request on that request's stream, a
   * message about it there too unless that stream is a JSON body (which carries responses only),
   * anything else on the standalone stream. Returns false when it was not queued.
   *
   * A full queue closes the session (`queue_full`) when a reader is not keeping up or a response
   * would be lost; a standalone stream nobody has opened only drops what does not fit, and takes
   * no request from the server at all (nobody could answer it).
   */
  send(message: JsonRpcMessage, relatedTo?: RequestId): boolean {
    const id = responseId(message)
    const routeId = id ?? relatedTo
    const route = routeId === undefined ? undefined : this.#routes.get(routeId)
    const stream = route && (id !== undefined || route.resumable) ? route : this.standalone
    const unread =
      stream === this.standalone && !this.options.endsWithStream && !this.#pacers.has(stream)
    if (unread && 'method' in message && 'id' in message) {
      this.options.events.dropped(this, 1)
      return false
    }
    const json = JSON.stringify(message)
    const bytes = Buffer.byteLength(json)
    const overBound = this.#unsentBytes + bytes > this.options.limits.maxQueueBytes
    const outcome = overBound && !stream.closed && !stream.ended ? 'full' : stream.push(json, bytes)
    if (route && id !== undefined) this.#settleRoute(id, route)
    if (outcome === 'queued') {
      if (this.options.budget.exceeded) this.options.events.overBudget(this)
      return true
    }
    this.options.events.dropped(this, 1)
    if (outcome === 'full' && !unread) this.close('queue_full')
    return false
  }

  /** The request ended without a response (it was cancelled): its stream no longer waits for it. */
  endWithoutResponse(id: RequestId): void {
    const route = this.#routes.get(id)
    if (route) this.#settleRoute(id, route)
  }

  /**
   * Ends the connection that carries `id`'s response stream but keeps the stream and its events,
   * so the client resumes it with Last-Event-ID (2025-11-25 polling, SEP-1699). False when `id`
   * has no resumable stream being read, or the session predates priming events.
   */
  closeStreamOf(id: RequestId): boolean {
    const route = this.#routes.get(id)
    if (!route?.resumable || !this.#pacers.has(route)) return false
    if ((this.state.protocolVersion ?? '') < '2025-11-25') return false
    this.detach(route)
    return true
  }

  /** Whether a request with this id is still waiting for its response on a stream of its own. */
  isRouted(id: RequestId): boolean {
    return this.#routes.has(id)
  }

  /**
   * A new stream for the responses to `requestIds`; it ends once they are all answered. A stream
   * answered as one JSON body is not `resumable`: no reconnect may take its events.
   */
  openResponseStream(requestIds: readonly RequestId[], resumable = true): EventStream {
    const stream = this.#newStream(this.#nextStream++, resumable)
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

  /** Any request from the client counts as activity for the idle TTL (a time, not a timer). */
  touch(): void {
    this.#lastActiveAt = performance.now()
  }

  /**
   * WheelEntry: the idle TTL. A session with a reader attached is not idle; one without expires
   * `idleTtlMs` after its last request or its last reader, whichever came later.
   */
  onWheelDue(nowMs: number): number | undefined {
    if (this.isClosed) return undefined
    const { idleTtlMs } = this.options.limits
    if (this.#pacers.size > 0) return nowMs + idleTtlMs
    const expiresAt = this.#lastActiveAt + idleTtlMs
    if (nowMs < expiresAt - 1) return expiresAt
    this.close('idle_ttl')
    return undefined
  }

  /**
   * Attaches a reader to `stream`; false when one is attached already or the session is closed.
   * A reader that leaves a frame untaken past the send deadline is evicted: a session that lives
   * with its standalone stream closes (`send_deadline`); a response stream is dropped alone, and
   * `onEvicted` lets the HTTP layer cut its connection.
   */
  attach(stream: EventStream = this.standalone, onEvicted?: () => void): boolean {
    if (this.#pacers.has(stream) || this.isClosed || stream.closed) return false
    // A session that lives with its stream never waits for a reconnect: no idle TTL.
    if (this.options.endsWithStream) timerWheel.cancel(this)
    this.#pacers.set(stream, new AttachedReader(this, stream, onEvicted, this.options.limits))
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
    // A finished stream stays for replay (its last frame may not have reached the client) until
    // the session's replay bound forgets its events; then it is released.
    if (stream !== this.standalone) this.#releaseOldStreams()
    if (this.options.endsWithStream && stream === this.standalone) this.close('client_abort')
    else if (this.#pacers.size === 0) this.#lastActiveAt = performance.now()
  }

  /** Drops a response stream and whatever it still holds (answered, or evicted). */
  releaseStream(stream: EventStream): void {
    if (stream === this.standalone || this.#streams.get(stream.number) !== stream) return
    const dropped = stream.close()
    if (dropped > 0) this.options.events.dropped(this, dropped)
    this.#streams.delete(stream.number)
  }

  /** Closes the session once: drops its streams, stops its timers, cancels its calls. */
  close(reason: CloseReason): void {
    if (this.#closeReason) return
    this.#closeReason = reason
    timerWheel.cancel(this)
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

  #newStream(number: number, resumable = true): EventStream {
    const { maxQueueMessages, maxQueueBytes, replayEvents } = this.options.limits
    // A legacy stream, or a reply sent as one JSON body, cannot be resumed: it keeps nothing.
    const keeps = resumable && !this.options.endsWithStream
    const stream = new EventStream(
      number,
      {
        maxMessages: maxQueueMessages,
        maxBytes: maxQueueBytes,
        replayEvents: keeps ? replayEvents : 0,
      },
      this,
      keeps,
    )
    this.#streams.set(number, stream)
    return stream
  }

  /** The reader of `stream` left a frame untaken past the send deadline (its pacer says so). */
  evictReader(reader: AttachedReader): void {
    const { stream, onEvicted } = reader
    if (this.#pacers.get(stream) !== reader) return
    if (this.options.endsWithStream || stream === this.standalone) {
      this.close('send_deadline')
      return
    }
    this.options.events.streamEvicted(this)
    this.detach(stream)
    this.releaseStream(stream)
    onEvicted?.()
  }

  /**
   * Forgets the oldest replay events until `bytes` are freed: finished streams nobody reads
   * first, oldest first, then the rest. A finished stream left with nothing is released. (Called
   * from the ledger while a stream takes or closes; it only drops sent events, which neither
   * touches.)
   */
  forgetReplay(bytes: number): number {
    let left = bytes
    for (const spent of [true, false]) {
      for (const stream of [...this.#streams.values()]) {
        if (left <= 0) return bytes
        if (!stream.resumable) continue
        const finished = stream.ended && !this.#pacers.has(stream)
        if (finished !== spent) continue
        left -= stream.forgetReplay(left)
        if (finished && stream.heldBytes === 0) this.releaseStream(stream)
      }
    }
    return bytes - left
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
}

/** The id of a response (result or error) message; undefined for requests and notifications. */
function responseId(message: JsonRpcMessage): RequestId | undefined {
  if ('method' in message || !('id' in message) || message.id === null) return undefined
  return message.id
}

/** The reader attached to one stream of a session: its pacing, and how to cut its connection. */
class AttachedReader extends Pacer {
  constructor(
    private readonly session: Session,
    readonly stream: EventStream,
    /** Cuts the reader's connection when it is evicted (response streams). */
    readonly onEvicted: (() => void) | undefined,
    timing: PacerTiming,
  ) {
    super(timing)
  }

  protected override onQuiet(): void {
    this.stream.offerKeepalive()
  }

  protected override onDeadline(): void {
    this.session.evictReader(this)
  }
}
