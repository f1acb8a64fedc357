import type { CloseReason } from '../observability/server-metrics.ts'
import type { JsonRpcMessage } from '../protocol/jsonrpc.ts'
import type { McpPeer, PeerState } from '../protocol/peer.ts'
import { PendingCalls } from '../protocol/pending-calls.ts'
import { type Outbound, OutboundQueue } from './outbound-queue.ts'
import { StreamPacer } from './stream-pacer.ts'

export interface SessionLimits {
  maxQueueMessages: number
  maxQueueBytes: number
  keepaliveMs: number
  sendDeadlineMs: number
  idleTtlMs: number
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

/**
 * One MCP session and everything it holds: its outbound queue, keepalive and deadline timers,
 * idle-TTL timer and pending tool calls. `close` releases all of them exactly once, whichever
 * path ends the session.
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
  readonly #queue: OutboundQueue
  readonly #closed = new AbortController()
  #closeReason: CloseReason | undefined
  #pacer: StreamPacer | undefined
  #idleTimer: Timer | undefined

  constructor(private readonly options: SessionOptions) {
    this.sessionId = options.id
    this.owner = options.owner
    this.#queue = new OutboundQueue(options.limits.maxQueueMessages, options.limits.maxQueueBytes)
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

  get hasStream(): boolean {
    return this.#pacer !== undefined
  }

  get queuedMessages(): number {
    return this.#queue.length
  }

  /** Queues a message for the client. A full queue closes the session (`queue_full`). */
  send(message: JsonRpcMessage): boolean {
    const outcome = this.#queue.push(JSON.stringify(message))
    if (outcome === 'queued') return true
    this.options.events.dropped(this, 1)
    if (outcome === 'full') this.close('queue_full')
    return false
  }

  /** Any request from the client counts as activity for the idle TTL. */
  touch(): void {
    if (!this.#pacer && !this.isClosed) this.#armIdleTimer()
  }

  /**
   * Attaches the one stream that reads this session's queue; false when one is attached
   * already or the session is closed.
   */
  openStream(): boolean {
    if (this.#pacer || this.isClosed) return false
    clearTimeout(this.#idleTimer)
    this.#idleTimer = undefined
    const { keepaliveMs, sendDeadlineMs } = this.options.limits
    this.#pacer = new StreamPacer({
      keepaliveMs,
      sendDeadlineMs,
      onQuiet: () => this.#queue.offerKeepalive(),
      onDeadline: () => this.close('send_deadline'),
    })
    this.options.events.streamOpened(this)
    return true
  }

  /** The next queued message without waiting, if any. */
  takeOutbound(): string | undefined {
    return this.#queue.take()
  }

  /** Waits for a message, a keepalive, or the session's close (null). Never outlives the session. */
  waitOutbound(): Promise<Outbound | null> {
    return this.#queue.wait()
  }

  /** The stream generator yielded a frame of this kind to its reader. */
  frameHandedOver(kind: 'message' | 'keepalive' | 'control'): void {
    this.#pacer?.frameHandedOver()
    if (kind !== 'control') this.options.events.sent(this, kind)
  }

  /** The reader took the last frame (the generator was resumed). */
  frameTaken(): void {
    this.#pacer?.frameTaken()
  }

  /** The stream ended (client gone or session closed); ends the session if it lives with its stream. */
  closeStream(): void {
    if (!this.#pacer) return
    this.#pacer.stop()
    this.#pacer = undefined
    this.options.events.streamClosed(this)
    if (this.options.endsWithStream) this.close('client_abort')
    else if (!this.isClosed) this.#armIdleTimer()
  }

  /** Closes the session once: drops its queue, stops its timers, cancels its calls. */
  close(reason: CloseReason): void {
    if (this.#closeReason) return
    this.#closeReason = reason
    clearTimeout(this.#idleTimer)
    this.#idleTimer = undefined
    const dropped = this.#queue.close()
    if (dropped > 0) this.options.events.dropped(this, dropped)
    this.calls.cancelAll(`session ${this.sessionId} closed: ${reason}`)
    if (this.#pacer) {
      this.#pacer.stop()
      this.#pacer = undefined
      this.options.events.streamClosed(this)
    }
    this.#closed.abort(reason)
    this.options.events.closed(this, reason)
  }

  #armIdleTimer(): void {
    clearTimeout(this.#idleTimer)
    this.#idleTimer = setTimeout(() => this.close('idle_ttl'), this.options.limits.idleTtlMs)
    this.#idleTimer.unref()
  }
}
