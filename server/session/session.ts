import type { CloseReason } from '../observability/server-metrics.ts'
import type { JsonRpcMessage, RequestId } from '../protocol/jsonrpc.ts'
import type { McpPeer, PeerState } from '../protocol/peer.ts'
import { PendingCalls } from '../protocol/pending-calls.ts'
import type { BufferBudget } from './buffer-budget.ts'
import type {
  EventStream,
  EventStreamLimits,
  KEEPALIVE,
  StreamEvent,
  StreamLedger,
} from './event-stream.ts'
import {
  AttachedReader,
  type ReaderConnection,
  type ReaderOwner,
  ResponseStreams,
  SessionStream,
} from './session-streams.ts'
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
  /** A message was queued on a resumable stream (Streamable HTTP): the cluster stores it. */
  queued(session: Session, stream: EventStream, json: string): void
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
 *
 * A legacy session holds its standalone stream only: the response streams of Streamable HTTP
 * (numbered, routed by request id, kept for replay) are made with the first of them.
 */
export class Session implements McpPeer, StreamLedger, WheelEntry, ReaderOwner {
  readonly sessionId: string
  readonly owner: string
  readonly createdAt = Date.now()
  readonly state: PeerState = {
    protocolVersion: undefined,
    clientReady: false,
    clientInfo: undefined,
  }
  readonly calls = new PendingCalls()
  readonly standalone: SessionStream
  /** Streams that answer requests (Streamable HTTP), while there are any. */
  #responses: ResponseStreams | undefined
  /** The number the next response stream gets (the standalone stream is 0). */
  #nextStreamNumber = 1
  /** The reply to initialize once handed over whole, until the session's next request. */
  #initializeReply: SessionStream | undefined
  /** Streams with a reader attached. */
  #readers = 0
  /** Made when someone first asks for `signal`: most sessions are never asked. */
  #closed: AbortController | undefined
  /** Bytes held over all streams: unsent plus kept for replay. */
  #heldBytes = 0
  #unsentBytes = 0
  /** Bytes handed to the HTTP layer in pieces that its reader has not taken yet. */
  #transitBytes = 0
  #closeReason: CloseReason | undefined
  /** Last request, or last reader gone (performance.now()): the idle TTL counts from here. */
  #lastActiveAt = performance.now()
  /** WheelEntry: the idle TTL's place on the timer wheel. */
  wheelTick = -1
  readonly #limits: SessionLimits
  readonly #events: SessionEvents
  readonly #budget: BufferBudget
  readonly #endsWithStream: boolean

  constructor(options: SessionOptions) {
    this.sessionId = options.id
    this.owner = options.owner
    this.#limits = options.limits
    this.#events = options.events
    this.#budget = options.budget
    this.#endsWithStream = options.endsWithStream
    this.standalone = this.#newStream(STANDALONE_STREAM)
    timerWheel.schedule(this, this.#lastActiveAt + options.limits.idleTtlMs)
  }

  get id(): string {
    return this.sessionId
  }

  /** Whether the session is its stream (legacy HTTP+SSE): it ends with it, and is never taken over. */
  get endsWithStream(): boolean {
    return this.#endsWithStream
  }

  get isClosed(): boolean {
    return this.#closeReason !== undefined
  }

  get closeReason(): CloseReason | undefined {
    return this.#closeReason
  }

  /** Aborts when the session closes; its reason is the CloseReason. */
  get signal(): AbortSignal {
    if (!this.#closed) {
      this.#closed = new AbortController()
      if (this.#closeReason) this.#closed.abort(this.#closeReason)
    }
    return this.#closed.signal
  }

  /** Whether a reader is attached to `stream` (the standalone stream by default). */
  isAttached(stream: EventStream = this.standalone): boolean {
    return stream instanceof SessionStream && stream.reader !== undefined
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
    this.#budget.adjust(deltaBytes)
    if (deltaBytes > 0 && this.#budget.exceeded) this.#events.overBudget(this)
  }

  /**
   * Calls in flight whose answer someone can still receive: a legacy session's (its stream lives
   * with it), or those whose response stream has a reader or a JSON reply waiting for it. A drain
   * waits for these, not for calls whose client left.
   */
  get reachableCalls(): number {
    const responses = this.#responses
    if (this.#endsWithStream || !responses?.routing) return this.calls.size
    let total = 0
    for (const [id, stream] of responses.routes()) {
      if (this.calls.has(id) && (stream.reader || stream.jsonReader)) total++
    }
    return total
  }

  /** A JSON reply is being built on `stream` for a client that is there (false: it left). */
  setJsonReader(stream: EventStream, present: boolean): void {
    if (stream instanceof SessionStream) stream.jsonReader = present
  }

  /** Messages not yet handed to a reader, on any stream. */
  get unsentMessages(): number {
    let total = this.standalone.unsent
    if (this.#responses) for (const s of this.#responses.streams()) total += s.unsent
    return total
  }

  /** Messages waiting for a reader that is attached (what a graceful drain waits for). */
  get deliverableMessages(): number {
    let total = this.standalone.reader ? this.standalone.unsent : 0
    if (this.#responses) for (const s of this.#responses.streams()) if (s.reader) total += s.unsent
    return total
  }

  /** StreamLedger: every byte any of the session's streams holds is counted here, once. */
  adjust(heldDelta: number, unsentDelta: number): void {
    this.#heldBytes += heldDelta
    this.#unsentBytes += unsentDelta
    this.#budget.adjust(heldDelta)
    // Sending moves bytes into replay windows: keep the session's replay within its bound.
    if (unsentDelta < 0) {
      const excess = this.#heldBytes - this.#unsentBytes - this.#limits.replayBytes
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
    const route = routeId === undefined ? undefined : this.#responses?.routeOf(routeId)
    const stream = route && (id !== undefined || route.resumable) ? route : this.standalone
    const unread = stream === this.standalone && !this.#endsWithStream && !stream.reader
    if (unread && 'method' in message && 'id' in message) {
      this.#events.dropped(this, 1)
      return false
    }
    const json = JSON.stringify(message)
    const bytes = Buffer.byteLength(json)
    const overBound = this.#unsentBytes + bytes > this.#limits.maxQueueBytes
    const outcome = overBound && !stream.closed && !stream.ended ? 'full' : stream.push(json, bytes)
    if (route && id !== undefined) this.#settleRoute(id)
    if (outcome === 'queued') {
      if (stream === this.standalone && !this.#endsWithStream)
        this.#events.queued(this, stream, json)
      if (this.#budget.exceeded) this.#events.overBudget(this)
      return true
    }
    this.#events.dropped(this, 1)
    if (outcome === 'full' && !unread) this.close('queue_full')
    return false
  }

  /** The request ended without a response (it was cancelled): its stream no longer waits for it. */
  endWithoutResponse(id: RequestId): void {
    this.#settleRoute(id)
  }

  /**
   * Ends the connection that carries `id`'s response stream but keeps the stream and its events,
   * so the client resumes it with Last-Event-ID (2025-11-25 polling, SEP-1699). False when `id`
   * has no resumable stream being read, or the session predates priming events.
   */
  closeStreamOf(id: RequestId): boolean {
    const route = this.#responses?.routeOf(id)
    if (!route?.resumable || !route.reader) return false
    if ((this.state.protocolVersion ?? '') < '2025-11-25') return false
    this.detach(route)
    return true
  }

  /** Whether a request with this id is still waiting for its response on a stream of its own. */
  isRouted(id: RequestId): boolean {
    return this.#responses?.routeOf(id) !== undefined
  }

  /**
   * A new stream for the responses to `requestIds`; it ends once they are all answered. A stream
   * answered as one JSON body is not `resumable`: no reconnect may take its events.
   */
  openResponseStream(requestIds: readonly RequestId[], resumable = true): EventStream {
    this.#responses ??= new ResponseStreams(this.#limits.retainedStreams)
    const stream = this.#newStream(this.#nextStreamNumber++, resumable)
    // Only the initialize request comes before the session is initialized.
    stream.answersInitialize = this.state.protocolVersion === undefined
    this.#responses.add(stream, requestIds)
    if (requestIds.length === 0) {
      stream.end()
      this.#retain(stream)
    }
    return stream
  }

  /** Streams retained now (the standalone one included). */
  get streamCount(): number {
    return 1 + (this.#responses?.size ?? 0)
  }

  /** A stream of this session by number, while it is retained. */
  stream(number: number): EventStream | undefined {
    return number === STANDALONE_STREAM ? this.standalone : this.#responses?.get(number)
  }

  /**
   * Any request from the client counts as activity for the idle TTL (a time, not a timer). A
   * client that sends another request got its initialize reply: that reply is released then,
   * unless it is being read again right now.
   */
  touch(): void {
    this.#lastActiveAt = performance.now()
    const reply = this.#initializeReply
    if (reply) {
      this.#initializeReply = undefined
      if (!reply.reader) this.releaseStream(reply)
    }
  }

  /**
   * WheelEntry: the idle TTL. A session with a reader attached is not idle; one without expires
   * `idleTtlMs` after its last request or its last reader, whichever came later.
   */
  onWheelDue(nowMs: number): number | undefined {
    if (this.isClosed) return undefined
    const { idleTtlMs } = this.#limits
    if (this.#readers > 0) return nowMs + idleTtlMs
    const expiresAt = this.#lastActiveAt + idleTtlMs
    if (nowMs < expiresAt - 1) return expiresAt
    this.close('idle_ttl')
    return undefined
  }

  /**
   * Attaches a reader to `stream`; false when one is attached already or the session is closed.
   * A reader that leaves a frame untaken past the send deadline is evicted: a session that lives
   * with its standalone stream closes (`send_deadline`); a response stream is dropped alone.
   * `connection` is the reader's, which the server cuts when it ends the reader (evicted, or its
   * session closed by anything but the reader leaving): it may be stalled inside a write.
   */
  attach(stream: EventStream = this.standalone, connection?: ReaderConnection): boolean {
    if (this.isClosed || stream.closed || this.stream(stream.number) !== stream) return false
    const own = stream as SessionStream
    if (own.reader) return false
    // A session that lives with its stream never waits for a reconnect: no idle TTL.
    if (this.#endsWithStream) timerWheel.cancel(this)
    own.reader = new AttachedReader(this, own, connection, this.#limits)
    this.#readers++
    // A finished stream read again (a resumption) is not released meanwhile.
    this.#responses?.unretain(own)
    this.#events.streamOpened(this)
    return true
  }

  /** The next event of `stream` without waiting, if any. */
  take(stream: EventStream): StreamEvent | undefined {
    const event = stream.take()
    // The reply to initialize, handed over whole (no reader): kept for a resumption only until
    // the session's next request (`touch`).
    const own = stream as SessionStream
    if (own.answersInitialize && own.resumable && own.finished && !own.reader) {
      this.#initializeReply = own
    }
    return event
  }

  /** Waits for an event, a keepalive, or the stream's end or the session's close (null). */
  wait(stream: EventStream): Promise<StreamEvent | typeof KEEPALIVE | null> {
    return stream.wait()
  }

  /** The stream generator yielded a frame of this kind to its reader. */
  frameHandedOver(stream: EventStream, kind: 'message' | 'keepalive' | 'control'): void {
    ;(stream as SessionStream).reader?.frameHandedOver()
    if (kind !== 'control') this.#events.sent(this, kind)
  }

  /** The reader took the last frame (the generator was resumed). */
  frameTaken(stream: EventStream): void {
    ;(stream as SessionStream).reader?.frameTaken()
  }

  /**
   * The reader of `stream` is gone (client left, or the stream ended). Ends the session if it
   * lives with its stream; otherwise the session waits for a reconnect until its idle TTL.
   */
  detach(stream: EventStream = this.standalone): void {
    const own = stream as SessionStream
    const reader = own.reader
    if (!reader) return
    reader.stop()
    own.reader = undefined
    this.#readers--
    // A generator parked on this stream must not wait for the next event to notice.
    own.release()
    this.#events.streamClosed(this)
    // A finished stream stays for replay (its last frame may not have reached the client) until
    // the session's replay bound forgets its events; then it is released.
    if (own !== this.standalone) this.#retain(own)
    if (this.#endsWithStream && own === this.standalone) this.close('client_abort')
    else if (this.#readers === 0) this.#lastActiveAt = performance.now()
  }

  /** Drops a response stream and whatever it still holds (answered, or evicted). */
  releaseStream(stream: EventStream): void {
    if (stream === this.standalone || !this.#responses?.remove(stream as SessionStream)) return
    const dropped = stream.close()
    if (dropped > 0) this.#events.dropped(this, dropped)
    this.#letGoOfEmptyResponses()
  }

  /** Closes the session once: drops its streams, stops their readers, cancels its calls. */
  close(reason: CloseReason): void {
    if (this.#closeReason) return
    this.#closeReason = reason
    timerWheel.cancel(this)
    const responses = this.#responses
    this.#responses = undefined
    let dropped = this.standalone.close()
    if (responses) for (const stream of responses.streams()) dropped += stream.close()
    if (dropped > 0) this.#events.dropped(this, dropped)
    this.calls.cancelAll(`session ${this.sessionId} closed: ${reason}`)
    // The server ends the readers still attached, unless the reader leaving is what closed it.
    const cut = reason !== 'client_abort'
    this.#stopReader(this.standalone, cut)
    if (responses) for (const stream of responses.streams()) this.#stopReader(stream, cut)
    this.#closed?.abort(reason)
    this.#events.closed(this, reason)
  }

  /** The reader of `stream` left a frame untaken past the send deadline (its pacer says so). */
  evictReader(reader: AttachedReader): void {
    const { stream, connection } = reader
    if (stream.reader !== reader) return
    if (this.#endsWithStream || stream === this.standalone) {
      this.close('send_deadline')
      return
    }
    this.#events.streamEvicted(this)
    this.detach(stream)
    this.releaseStream(stream)
    connection?.drop()
  }

  /**
   * Forgets the oldest replay events until `bytes` are freed: finished streams nobody reads
   * first, oldest first, then the rest. A finished stream left with nothing is released. (Called
   * from the ledger while a stream takes or closes; it only drops sent events, which neither
   * touches.)
   */
  forgetReplay(bytes: number): number {
    const responses = this.#responses
    let left = bytes - (responses?.forgetRetained(bytes) ?? 0)
    this.#letGoOfEmptyResponses()
    if (left > 0 && this.standalone.resumable) left -= this.standalone.forgetReplay(left)
    if (responses) {
      for (const stream of responses.streams()) {
        if (left <= 0) break
        if (stream.resumable && !responses.isRetained(stream)) left -= stream.forgetReplay(left)
      }
    }
    return bytes - left
  }

  #newStream(number: number, resumable = true): SessionStream {
    // A legacy stream, or a reply sent as one JSON body, cannot be resumed: it keeps nothing.
    const keeps = resumable && !this.#endsWithStream
    return new SessionStream(number, streamLimitsOf(this.#limits, keeps), this, keeps)
  }

  /** The response to `id` went out or never will: a stream that waits for nothing more ends. */
  #settleRoute(id: RequestId): void {
    const done = this.#responses?.settle(id)
    if (!done) {
      this.#letGoOfEmptyResponses()
      return
    }
    done.end()
    this.#retain(done)
  }

  /**
   * Keeps a finished response stream nobody reads for replay, at most `retainedStreams` of them:
   * a client that keeps opening POST streams and leaving them unread cannot grow the session.
   * Past the bound the oldest are released, and any response still unsent in them is dropped.
   */
  #retain(stream: SessionStream): void {
    const dropped = this.#responses?.retain(stream) ?? 0
    if (dropped > 0) this.#events.dropped(this, dropped)
  }

  /** An idle session keeps no response-stream bookkeeping: it is made again with the next one. */
  #letGoOfEmptyResponses(): void {
    if (this.#responses?.empty) this.#responses = undefined
  }

  #stopReader(stream: SessionStream, cut: boolean): void {
    const reader = stream.reader
    if (!reader) return
    reader.stop()
    stream.reader = undefined
    this.#readers--
    this.#events.streamClosed(this)
    if (cut) reader.connection?.drop()
  }
}

/** The bounds of a stream that keeps a replay window, and of one that does not, per limits. */
const streamLimits = new WeakMap<SessionLimits, [EventStreamLimits, EventStreamLimits]>()

/** Made once per server's limits and shared by every stream, not one object per stream. */
function streamLimitsOf(limits: SessionLimits, keeps: boolean): EventStreamLimits {
  let pair = streamLimits.get(limits)
  if (!pair) {
    const { maxQueueMessages: maxMessages, maxQueueBytes: maxBytes, replayEvents } = limits
    pair = [
      { maxMessages, maxBytes, replayEvents },
      { maxMessages, maxBytes, replayEvents: 0 },
    ]
    streamLimits.set(limits, pair)
  }
  return keeps ? pair[0] : pair[1]
}

/** The id of a response (result or error) message; undefined for requests and notifications. */
function responseId(message: JsonRpcMessage): RequestId | undefined {
  if ('method' in message || !('id' in message) || message.id === null) return undefined
  return message.id
}
