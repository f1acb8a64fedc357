/** Handed to a parked reader instead of an event when the stream has been quiet too long. */
export const KEEPALIVE: unique symbol = Symbol('keepalive')

export type PushOutcome = 'queued' | 'full' | 'closed'

/** One message of a stream, numbered within it. */
export interface StreamEvent {
  seq: number
  json: string
  /** Its size as sent (UTF-8 bytes): what bounds and budgets count. */
  bytes: number
}

export interface EventStreamLimits {
  /** Unsent messages the stream may hold before it is full. */
  maxMessages: number
  /** Unsent bytes (UTF-8) the stream may hold before it is full. */
  maxBytes: number
  /** Sent events kept for replay after a reconnect (0: none, as in the legacy transport). */
  replayEvents: number
}

/**
 * Where a stream reports the bytes it holds (UTF-8 bytes of event JSON): its session, which
 * charges them to the session's bounds and the server-wide budget.
 */
export interface StreamLedger {
  /** The bytes held (unsent plus kept for replay) and the unsent bytes changed by these deltas. */
  adjust(heldDelta: number, unsentDelta: number): void
}

const NO_LEDGER: StreamLedger = { adjust: () => {} }

/**
 * The outbound messages of one SSE stream of a session: a bounded run of unsent events, plus the
 * last sent ones kept for replay (`Last-Event-ID`). Events are numbered 1, 2, 3... so an event id
 * names a position; one reader at a time waits on it.
 */
export class EventStream {
  /** Retained events, contiguous by seq: the replay window, then the unsent ones. */
  readonly #events: StreamEvent[] = []
  #nextSeq = 1
  /** Highest seq handed to a reader. */
  #sentSeq = 0
  #unsentBytes = 0
  /** Bytes of sent events kept for replay. */
  #replayBytes = 0
  #ended = false
  #closed = false
  #waiter: ((item: StreamEvent | typeof KEEPALIVE | null) => void) | undefined

  constructor(
    readonly number: number,
    private readonly limits: EventStreamLimits,
    private readonly ledger: StreamLedger = NO_LEDGER,
    /** Whether a reconnect may resume it (false for replies answered as one JSON body). */
    readonly resumable = true,
  ) {}

  /** Bytes held: unsent events plus those kept for replay. */
  get heldBytes(): number {
    return this.#unsentBytes + this.#replayBytes
  }

  /** Events not yet handed to a reader. */
  get unsent(): number {
    return this.#nextSeq - 1 - this.#sentSeq
  }

  get closed(): boolean {
    return this.#closed
  }

  /** Whether `end()` was called: no more events will come. */
  get ended(): boolean {
    return this.#ended
  }

  /** Whether `end()` was called and every event has been handed over. */
  get finished(): boolean {
    return this.#ended && this.unsent === 0
  }

  /**
   * Adds a message of `bytes` UTF-8 bytes (measured by the caller, once); never grows past the
   * bounds. Wakes a parked reader.
   */
  push(json: string, bytes: number = Buffer.byteLength(json)): PushOutcome {
    if (this.#closed || this.#ended) return 'closed'
    if (
      this.unsent >= this.limits.maxMessages ||
      this.#unsentBytes + bytes > this.limits.maxBytes
    ) {
      return 'full'
    }
    const event = { seq: this.#nextSeq++, json, bytes }
    this.#events.push(event)
    this.#unsentBytes += bytes
    this.ledger.adjust(bytes, bytes)
    if (this.#waiter) {
      const wake = this.#waiter
      this.#waiter = undefined
      wake(this.#advance())
    }
    return 'queued'
  }

  /** The next unsent event, without waiting. */
  take(): StreamEvent | undefined {
    return this.unsent > 0 ? this.#advance() : undefined
  }

  /** Waits for the next event, a keepalive offer, or the end (null). One reader at a time. */
  wait(): Promise<StreamEvent | typeof KEEPALIVE | null> {
    const event = this.take()
    if (event) return Promise.resolve(event)
    if (this.#closed || this.#ended) return Promise.resolve(null)
    return new Promise((resolve) => {
      this.#waiter = resolve
    })
  }

  /** Wakes a parked reader with a keepalive; false when no reader is parked. */
  offerKeepalive(): boolean {
    if (!this.#waiter) return false
    const wake = this.#waiter
    this.#waiter = undefined
    wake(KEEPALIVE)
    return true
  }

  /**
   * Resumes after `seq` (a reconnect with Last-Event-ID): events after it are sent again, as far
   * as the replay window reaches. Returns false when `seq` is not a position of this stream.
   */
  rewind(seq: number): boolean {
    if (!Number.isInteger(seq) || seq < 0 || seq >= this.#nextSeq) return false
    const first = this.#events[0]?.seq ?? this.#nextSeq
    const from = Math.max(seq, first - 1)
    let again = 0
    for (const e of this.#events) if (e.seq > from && e.seq <= this.#sentSeq) again += e.bytes
    this.#unsentBytes += again
    this.#replayBytes -= again
    this.ledger.adjust(0, again)
    this.#sentSeq = Math.min(this.#sentSeq, from)
    return true
  }

  /**
   * Gives a fresh stream the events another instance sent on it before this one took the session
   * over: they are kept as sent (a replay window, for Last-Event-ID), and numbering continues
   * after `lastSeq` (at least the last of them), so event ids stay unique and ordered.
   */
  restore(events: readonly { seq: number; json: string }[], lastSeq: number): void {
    if (this.#nextSeq !== 1 || this.#closed) return
    // Only a contiguous run can be replayed (positions are counted from its first event).
    let start = events.length
    while (
      start > 0 &&
      (start === events.length || events[start - 1]!.seq === events[start]!.seq - 1)
    )
      start--
    let kept = events.slice(Math.max(start, events.length - this.limits.replayEvents))
    // Events older than a position the client already names cannot be replayed without a gap.
    if ((kept.at(-1)?.seq ?? 0) < lastSeq) kept = []
    let bytes = 0
    for (const { seq, json } of kept) {
      const size = Buffer.byteLength(json)
      this.#events.push({ seq, json, bytes: size })
      bytes += size
    }
    this.#nextSeq = Math.max(lastSeq, kept.at(-1)?.seq ?? 0) + 1
    this.#sentSeq = this.#nextSeq - 1
    this.#replayBytes = bytes
    this.ledger.adjust(bytes, 0)
  }

  /** Wakes a parked reader with null (its client is gone); the stream itself lives on. */
  release(): void {
    this.#wakeWithNull()
  }

  /** The seq of the last event pushed (0 before any). */
  get lastSeq(): number {
    return this.#nextSeq - 1
  }

  /** No more events will come: a reader gets null once it has taken the rest. */
  end(): void {
    if (this.#ended) return
    this.#ended = true
    if (this.unsent === 0) this.#wakeWithNull()
  }

  /** Drops everything and wakes a parked reader with null. Returns how many unsent were dropped. */
  close(): number {
    if (this.#closed) return 0
    this.#closed = true
    const dropped = this.unsent
    this.ledger.adjust(-this.heldBytes, -this.#unsentBytes)
    this.#events.length = 0
    this.#unsentBytes = 0
    this.#replayBytes = 0
    this.#sentSeq = this.#nextSeq - 1
    this.#wakeWithNull()
    return dropped
  }

  #advance(): StreamEvent {
    const first = this.#events[0]?.seq ?? this.#nextSeq
    const event = this.#events[this.#sentSeq + 1 - first]!
    this.#sentSeq = event.seq
    this.#unsentBytes -= event.bytes
    this.#replayBytes += event.bytes
    // Keep only the replay window of sent events.
    let forgotten = 0
    while (
      this.#events.length > 0 &&
      this.#events[0]!.seq <= this.#sentSeq - this.limits.replayEvents
    ) {
      forgotten += this.#events.shift()!.bytes
    }
    this.#replayBytes -= forgotten
    this.ledger.adjust(-forgotten, -event.bytes)
    return event
  }

  /**
   * Forgets the oldest sent events until `bytes` are freed or none is left (a replay window over
   * its session's byte bound). Returns the bytes freed.
   */
  forgetReplay(bytes: number): number {
    let freed = 0
    while (freed < bytes && this.#events.length > 0 && this.#events[0]!.seq <= this.#sentSeq) {
      freed += this.#events.shift()!.bytes
    }
    this.#replayBytes -= freed
    this.ledger.adjust(-freed, 0)
    return freed
  }

  #wakeWithNull(): void {
    const wake = this.#waiter
    this.#waiter = undefined
    wake?.(null)
  }
}
