import type { InputChannel } from '../protocol/context.ts'
import type { JsonRpcMessage, RequestId } from '../protocol/jsonrpc.ts'
import type { McpPeer, PeerState } from '../protocol/peer.ts'
import { PendingCalls } from '../protocol/pending-calls.ts'
import type { BufferBudget } from './buffer-budget.ts'
import {
  EventStream,
  type EventStreamLimits,
  type KEEPALIVE,
  type StreamEvent,
  type StreamLedger,
} from './event-stream.ts'
import type { ReaderConnection } from './session-streams.ts'
import { Pacer } from './stream-pacer.ts'

export interface RequestPeerLimits {
  maxQueueMessages: number
  maxQueueBytes: number
  keepaliveMs: number
  sendDeadlineMs: number
}

/** Why a per-request peer ended: answered, the client left, its reader stalled, or shutdown. */
export type RequestCloseReason =
  | 'complete'
  | 'client_abort'
  | 'send_deadline'
  | 'queue_full'
  | 'shutdown'

export interface RequestPeerOptions {
  /** A name for logs: there is no session in the 2026 era. */
  id: string
  /** How the handler's input requests travel (the multi-round-trip channel of this attempt). */
  input?: InputChannel
  /** The request this peer answers; its response ends the stream. */
  requestId: RequestId
  state: PeerState
  limits: RequestPeerLimits
  budget: BufferBudget
  /** How a message leaves in this era (results get `resultType`, caching hints, serverInfo). */
  shape?: (message: JsonRpcMessage) => JsonRpcMessage
  /** Called once, when the peer closes. */
  onClose?: (peer: RequestPeer, reason: RequestCloseReason) => void
  /** A call cancelled by the close has settled, this many ms after the close was seen. */
  onCancelSettled?: (ms: number) => void
}

/** What arrived first on the stream: it decides between one JSON body and an SSE stream. */
export type FirstArrival = 'response' | 'notification' | 'closed'

/**
 * The peer of one 2026-07-28 request (or one `subscriptions/listen` stream): protocol version and
 * client capabilities from its `_meta`, its own pending call and a bounded stream charged to the
 * server-wide budget. Its one close path cancels the call, drops what the stream holds and stops
 * its timers, whichever way it ends: answered, client gone, send deadline, full queue, shutdown.
 */
export class RequestPeer implements McpPeer, StreamLedger {
  readonly sessionId: string
  readonly state: PeerState
  readonly calls = new PendingCalls()
  readonly stream: EventStream
  readonly input: InputChannel | undefined
  /** Made when someone asks for `signal`: most requests are answered before anyone listens. */
  #closed: AbortController | undefined
  /** What arrived first, and its promise once someone waits for it. */
  #arrival: FirstArrival | undefined
  #first: PromiseWithResolvers<FirstArrival> | undefined
  #pacer: PeerPacer | undefined
  /** The reader's connection, cut when the server ends a stream a reader may have stalled on. */
  #connection: ReaderConnection | undefined
  #answered = false
  #closeReason: RequestCloseReason | undefined
  /** When a close cancelled a call in flight (performance.now()). */
  #cancelledAt: number | undefined

  constructor(private readonly options: RequestPeerOptions) {
    this.sessionId = options.id
    this.state = options.state
    this.input = options.input
    this.stream = new EventStream(1, streamLimitsOf(options.limits), this, false)
  }

  /** StreamLedger: what the stream holds is charged to the server-wide budget. */
  adjust(heldDelta: number, _unsentDelta: number): void {
    this.options.budget.adjust(heldDelta)
  }

  get requestId(): RequestId {
    return this.options.requestId
  }

  /** Aborts when the peer closes; its reason is the RequestCloseReason. */
  get signal(): AbortSignal {
    if (!this.#closed) {
      this.#closed = new AbortController()
      if (this.#closeReason) this.#closed.abort(this.#closeReason)
    }
    return this.#closed.signal
  }

  /** Why the peer closed; undefined while it is open. */
  get closeReason(): RequestCloseReason | undefined {
    return this.#closeReason
  }

  get isClosed(): boolean {
    return this.#closeReason !== undefined
  }

  get answered(): boolean {
    return this.#answered
  }

  /** Resolves with what arrived first: the response, a related notification, or the close. */
  get firstArrival(): Promise<FirstArrival> {
    if (this.#arrival) return Promise.resolve(this.#arrival)
    this.#first ??= Promise.withResolvers<FirstArrival>()
    return this.#first.promise
  }

  /** What arrived first, if anything has: no need to wait for `firstArrival`. */
  get arrived(): FirstArrival | undefined {
    return this.#arrival
  }

  #arrive(what: FirstArrival): void {
    if (this.#arrival) return
    this.#arrival = what
    this.#first?.resolve(what)
  }

  /** McpPeer: queues a message on this request's stream; a full stream closes the peer. */
  send(message: JsonRpcMessage, _relatedTo?: RequestId): boolean {
    if (this.isClosed || this.stream.ended) return false
    // 2026-07-28: no server-to-client request on a response stream (input requests travel by
    // MRTR), and no notifications/message for a request that did not ask for a log level.
    if ('method' in message) {
      if ('id' in message) return false
      if (message.method === 'notifications/message' && this.state.logLevel === undefined) {
        return false
      }
    }
    const response = !('method' in message) && 'id' in message
    const shaped = this.options.shape ? this.options.shape(message) : message
    const json = JSON.stringify(shaped)
    let outcome = this.stream.push(json)
    // A result too large for this request's bound can never be delivered: say so, once, rather
    // than failing as if it were a passing overload.
    if (outcome === 'full' && response)
      outcome = this.stream.push(JSON.stringify(tooLarge(message, json)))
    if (outcome === 'full') {
      this.close('queue_full')
      return false
    }
    if (outcome !== 'queued') return false
    this.#arrive(response ? 'response' : 'notification')
    if (response) {
      this.#answered = true
      this.stream.end()
    }
    return true
  }

  /** McpPeer: the call was cancelled; nothing more will come. */
  endWithoutResponse(_id: RequestId): void {
    if (this.#cancelledAt !== undefined) {
      this.options.onCancelSettled?.(performance.now() - this.#cancelledAt)
      this.#cancelledAt = undefined
    }
    this.stream.end()
    this.#arrive('closed')
  }

  /**
   * A reader takes the stream as SSE: keepalives when it is quiet, and eviction (its `connection`
   * cut) when a frame waits past the send deadline.
   */
  attach(connection: ReaderConnection): void {
    if (this.#pacer || this.isClosed) return
    this.#connection = connection
    this.#pacer = new PeerPacer(this, this.options.limits)
  }

  take(stream: EventStream): StreamEvent | undefined {
    return stream.take()
  }

  wait(stream: EventStream): Promise<StreamEvent | typeof KEEPALIVE | null> {
    return stream.wait()
  }

  frameHandedOver(_stream: EventStream, _kind: 'message' | 'keepalive' | 'control'): void {
    this.#pacer?.frameHandedOver()
  }

  chargeTransit(deltaBytes: number): void {
    this.options.budget.adjust(deltaBytes)
  }

  frameTaken(_stream: EventStream): void {
    this.#pacer?.frameTaken()
  }

  /** The SSE reader is gone: the stream's close is the request's cancellation unless answered. */
  detach(_stream?: EventStream): void {
    this.close(this.#answered && this.stream.finished ? 'complete' : 'client_abort')
  }

  /** Messages waiting for an attached reader (what a graceful drain waits for). */
  get deliverableMessages(): number {
    return this.#pacer && !this.isClosed ? this.stream.unsent : 0
  }

  /**
   * Closes once: cancels the call, drops what the stream holds, stops the timers. Ended by the
   * server (deadline, full queue, shutdown), a stream's connection is cut too: its generator may
   * be parked inside a write to a reader that stopped reading.
   */
  close(reason: RequestCloseReason): void {
    if (this.#closeReason) return
    this.#closeReason = reason
    this.#pacer?.stop()
    if (reason !== 'complete' && reason !== 'client_abort') this.#connection?.drop()
    if (this.calls.size > 0) this.#cancelledAt = performance.now()
    this.calls.cancelAll(`request ${this.sessionId} ended: ${reason}`)
    this.stream.close()
    this.#arrive('closed')
    this.#closed?.abort(reason)
    this.options.onClose?.(this, reason)
  }
}

/** Paces the stream of one request peer: keepalives, and its close at the send deadline. */
class PeerPacer extends Pacer {
  constructor(
    private readonly peer: RequestPeer,
    timing: RequestPeerLimits,
  ) {
    super(timing)
  }

  protected override onQuiet(): void {
    this.peer.stream.offerKeepalive()
  }

  protected override onDeadline(): void {
    this.peer.close('send_deadline')
  }
}

/** A request stream's bounds, made once per server's limits and shared by every peer. */
const streamLimits = new WeakMap<RequestPeerLimits, EventStreamLimits>()

function streamLimitsOf(limits: RequestPeerLimits): EventStreamLimits {
  let bounds = streamLimits.get(limits)
  if (!bounds) {
    const { maxQueueMessages: maxMessages, maxQueueBytes: maxBytes } = limits
    bounds = { maxMessages, maxBytes, replayEvents: 0 }
    streamLimits.set(limits, bounds)
  }
  return bounds
}

/** The error that stands for a result larger than a request's stream may hold. */
function tooLarge(message: JsonRpcMessage, json: string): JsonRpcMessage {
  return {
    jsonrpc: '2.0',
    id: (message as { id: RequestId }).id,
    error: {
      code: -32603,
      message: `Internal error: the result (${Buffer.byteLength(json)} bytes) exceeds this server's limit for one answer (--max-queue-bytes)`,
    },
  }
}
