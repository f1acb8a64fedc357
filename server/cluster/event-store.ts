import type { Counter, MetricsRegistry } from '../observability/metrics.ts'
import type { EventStream } from '../session/event-stream.ts'
import type { SessionLifecycleListener } from '../session/registry.ts'
import { type Session, STANDALONE_STREAM } from '../session/session.ts'
import type { RedisLink } from './connection.ts'
import { eventsKey } from './keys.ts'

/** The events of one stream, as stored: its event number and JSON. */
export interface StoredEvent {
  seq: number
  json: string
}

/**
 * The shared event store: every message queued on the standalone stream of a Streamable HTTP
 * session goes to a capped Redis Stream per session (`XADD ... MAXLEN ~ <replay-events>`, fields
 * `s` stream number, `n` event number, `d` JSON), so that the instance that takes a dead home's
 * session over can replay what the home sent. Writes are collected during a tick and sent in one
 * pipeline, never awaited. The key is deleted when the session closes (with its directory
 * record); while the session lives here its expiry is pushed back every half idle TTL, so that a
 * stream quiet for long (an open GET keeps its session alive) keeps its last event number; once
 * its home is gone, it expires after the idle TTL (counted from when the others can notice,
 * the heartbeat TTL later).
 *
 * Bounds: at most about `replayEvents` entries per session (approximate trimming, one Redis
 * stream node of slack), each at most one message (bounded by the session's queue bytes).
 */
export class EventStore implements SessionLifecycleListener {
  #pending: Array<[key: string, stream: number, seq: number, json: string]> = []
  #scheduled = false
  /** Sessions of this instance whose events may be stored: their keys' expiry is renewed. */
  readonly #stored = new Set<string>()
  readonly #renewal: ReturnType<typeof setInterval>
  /** A key's expiry: the idle TTL, counted from when its home's death can be noticed. */
  readonly #keepMs: number
  readonly #writes: Counter
  readonly #failures: Counter

  constructor(
    private readonly link: RedisLink,
    private readonly replayEvents: number,
    idleTtlMs: number,
    /** How long an instance's death takes to be noticed (its heartbeat TTL). */
    instanceTtlMs: number,
    metrics: MetricsRegistry,
  ) {
    this.#writes = metrics.counter(
      'sluice_event_store_writes_total',
      'Events written to the shared event store (Redis Streams) for takeover replay.',
    )
    this.#failures = metrics.counter(
      'sluice_event_store_failures_total',
      'Events the shared event store could not write (Redis away or refusing).',
    )
    this.#keepMs = idleTtlMs + instanceTtlMs
    this.#renewal = setInterval(() => this.#renew(), Math.max(1, Math.floor(idleTtlMs / 2)))
    this.#renewal.unref()
  }

  opened(): void {}

  closed(session: Session): void {
    this.#stored.delete(session.sessionId)
  }

  /** A session taken over here whose stored events were read: its key is renewed from now on. */
  kept(sessionId: string): void {
    this.#stored.add(sessionId)
  }

  stop(): void {
    clearInterval(this.#renewal)
  }

  #renew(): void {
    if (this.#stored.size === 0 || !this.link.connected) return
    const pipeline = this.link.command.pipeline()
    for (const id of this.#stored) pipeline.pexpire(eventsKey(id), this.#keepMs)
    pipeline.exec().catch(() => undefined)
  }

  queued(session: Session, stream: EventStream, json: string): void {
    // Response streams end with their home (their calls are lost): only the standalone stream
    // is continued elsewhere, so only its events are stored.
    if (stream.number !== STANDALONE_STREAM) return
    this.#stored.add(session.sessionId)
    this.#pending.push([eventsKey(session.sessionId), stream.number, stream.lastSeq, json])
    if (this.#scheduled) return
    this.#scheduled = true
    queueMicrotask(() => this.#flush())
  }

  #flush(): void {
    this.#scheduled = false
    const batch = this.#pending
    this.#pending = []
    if (!this.link.connected) {
      this.#failures.inc(undefined, batch.length)
      return
    }
    const pipeline = this.link.command.pipeline()
    const keys = new Set<string>()
    for (const [key, stream, seq, json] of batch) {
      pipeline.xadd(key, 'MAXLEN', '~', this.replayEvents, '*', 's', stream, 'n', seq, 'd', json)
      keys.add(key)
    }
    for (const key of keys) pipeline.pexpire(key, this.#keepMs)
    const count = batch.length
    pipeline.exec().then(
      (results) => {
        let failed = 0
        for (let i = 0; i < count; i++) if (results?.[i]?.[0]) failed++
        if (failed > 0) this.#failures.inc(undefined, failed)
        if (count > failed) this.#writes.inc(undefined, count - failed)
      },
      () => this.#failures.inc(undefined, count),
    )
  }

  /**
   * The stored events of stream `number` of a session, oldest first.
   * @throws when Redis cannot answer.
   */
  async read(sessionId: string, number: number): Promise<StoredEvent[]> {
    const entries = (await this.link.command.xrange(eventsKey(sessionId), '-', '+')) as Array<
      [string, string[]]
    >
    const events: StoredEvent[] = []
    for (const [, fields] of entries) {
      const field = (name: string) => fields[fields.indexOf(name) + 1]
      if (Number(field('s')) !== number) continue
      events.push({ seq: Number(field('n')), json: field('d') ?? '' })
    }
    return events
  }
}
