/** Returned by `take`/`wait` when the queue has been closed. */
export const QUEUE_CLOSED = null
/** Handed to a parked reader instead of a message when the stream has been quiet too long. */
export const KEEPALIVE: unique symbol = Symbol('keepalive')

export type Outbound = string | typeof KEEPALIVE
export type PushOutcome = 'queued' | 'full' | 'closed'

/**
 * The bounded queue of serialized messages waiting for a session's stream.
 * Bounded by count and by bytes; one reader at a time.
 */
export class OutboundQueue {
  readonly #items: string[] = []
  #bytes = 0
  #closed = false
  #waiter: ((item: Outbound | null) => void) | undefined

  constructor(
    readonly maxMessages: number,
    readonly maxBytes: number,
  ) {}

  get length(): number {
    return this.#items.length
  }

  get bytes(): number {
    return this.#bytes
  }

  get closed(): boolean {
    return this.#closed
  }

  /** Queues one serialized message, or hands it straight to a parked reader. Never grows past its bounds. */
  push(json: string): PushOutcome {
    if (this.#closed) return 'closed'
    if (this.#waiter) {
      const wake = this.#waiter
      this.#waiter = undefined
      wake(json)
      return 'queued'
    }
    // Byte size is counted in UTF-16 code units: exact for ASCII JSON, and cheap on the hot path.
    if (this.#items.length >= this.maxMessages || this.#bytes + json.length > this.maxBytes) {
      return 'full'
    }
    this.#items.push(json)
    this.#bytes += json.length
    return 'queued'
  }

  /** The next message if one is queued, without waiting. */
  take(): string | undefined {
    const item = this.#items.shift()
    if (item !== undefined) this.#bytes -= item.length
    return item
  }

  /**
   * Waits for the next message, a keepalive offer, or close (null). Only one reader may wait;
   * `close()` always wakes it, so a parked stream never outlives its session.
   */
  wait(): Promise<Outbound | null> {
    const item = this.take()
    if (item !== undefined) return Promise.resolve(item)
    if (this.#closed) return Promise.resolve(QUEUE_CLOSED)
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

  /** Drops every queued message and wakes a parked reader with null. Returns how many were dropped. */
  close(): number {
    if (this.#closed) return 0
    this.#closed = true
    const dropped = this.#items.length
    this.#items.length = 0
    this.#bytes = 0
    const wake = this.#waiter
    this.#waiter = undefined
    wake?.(QUEUE_CLOSED)
    return dropped
  }
}
