import type { Logger } from '../observability/log.ts'
import type { CloseReason, ServerMetrics } from '../observability/server-metrics.ts'
import type { PeerState } from '../protocol/peer.ts'
import { BufferBudget } from './buffer-budget.ts'
import { type RefusalReason, SessionRefusedError } from './errors.ts'
import type { EventStream } from './event-stream.ts'
import { MemoryReclaimer, RECLAIM_THRESHOLD_BYTES } from './memory-reclaimer.ts'
import { Session, type SessionEvents, type SessionLimits } from './session.ts'
import { newSessionId } from './session-id.ts'

export interface RegistryLimits extends SessionLimits {
  maxSessions: number
  /** Sessions one credential may hold at once (0: no quota). */
  maxSessionsPerOwner: number
  /** Bytes all sessions together may hold (unsent and replay) before load is shed. */
  maxBufferedBytes: number
}

/** Hears sessions open and close (a cluster directory records where each one lives). */
export interface SessionLifecycleListener {
  opened(session: Session): void
  closed(session: Session): void
  /** The session's initialize was answered: its negotiated state is set. */
  initialized?(session: Session): void
  /** A message was queued on a resumable stream of the session (Streamable HTTP). */
  queued?(session: Session, stream: EventStream, json: string): void
}

/** What a session taken over from another instance starts with. */
export interface AdoptedSession {
  id: string
  owner: string
  state: PeerState
  /** Events its standalone stream sent, oldest first, and the highest event number it used. */
  standalone: { events: readonly { seq: number; json: string }[]; lastSeq: number }
}

/**
 * Owns every open session; the only place sessions are created and forgotten. It also owns the
 * server-wide buffer budget: over it, new sessions and requests are refused and the session that
 * holds the most is evicted (`memory_budget`).
 */
export class SessionRegistry {
  readonly #sessions = new Map<string, Session>()
  readonly #perOwner = new Map<string, number>()
  readonly budget: BufferBudget
  readonly #reclaimer: MemoryReclaimer
  #streamsOpen = 0
  #draining = false
  readonly #events: SessionEvents
  readonly #lifecycle = new Set<SessionLifecycleListener>()

  constructor(
    readonly limits: RegistryLimits,
    private readonly metrics: ServerMetrics,
    private readonly logger: Logger,
  ) {
    this.budget = new BufferBudget(limits.maxBufferedBytes)
    this.#reclaimer = new MemoryReclaimer({
      thresholdBytes: Math.min(RECLAIM_THRESHOLD_BYTES, limits.maxBufferedBytes / 8),
      onReclaim: (freedBytes) => {
        metrics.memoryReclaims.inc()
        logger.debug('memory_reclaimed', { freedBytes })
      },
    })
    this.budget.onRelease((bytes) => this.#reclaimer.freed(bytes))
    this.#events = {
      streamOpened: () => {
        this.#streamsOpen++
      },
      streamClosed: () => {
        this.#streamsOpen--
      },
      sent: (_session, kind) => {
        if (kind === 'message') this.metrics.messagesSent.inc()
        else this.metrics.keepalivesSent.inc()
      },
      dropped: (_session, count) => this.metrics.messagesDropped.inc(undefined, count),
      streamEvicted: () => this.metrics.streamsEvicted.inc({ reason: 'send_deadline' }),
      queued: (session, stream, json) => {
        for (const listener of this.#lifecycle) listener.queued?.(session, stream, json)
      },
      overBudget: () => this.#shedLoad(),
      closed: (session, reason) => this.#forget(session, reason),
    }
  }

  /**
   * Calls `listener` when a session opens or closes, synchronously and after the registry has
   * recorded it; a listener must return at once and not throw. Returns the remover.
   */
  onLifecycle(listener: SessionLifecycleListener): () => void {
    this.#lifecycle.add(listener)
    return () => this.#lifecycle.delete(listener)
  }

  /** The open sessions, oldest first. */
  all(): IterableIterator<Session> {
    return this.#sessions.values()
  }

  /** Buffers outside the budget (a reply body the HTTP layer dropped) were freed. */
  freed(bytes: number): void {
    this.#reclaimer.freed(bytes)
  }

  /** Whether the buffer budget is used up: new sessions and requests must wait. */
  get overBudget(): boolean {
    return this.budget.exhausted
  }

  /** Open sessions. */
  get size(): number {
    return this.#sessions.size
  }

  /** Sessions with an attached stream. */
  get streamsOpen(): number {
    return this.#streamsOpen
  }

  /** Whether shutdown has begun: no new sessions are made. */
  get draining(): boolean {
    return this.#draining
  }

  /** Shutdown: refuse new sessions from now on; existing ones run on until closed. */
  beginDrain(): void {
    this.#draining = true
  }

  /** Tool calls in flight over every session. */
  pendingCalls(): number {
    let total = 0
    for (const session of this.#sessions.values()) total += session.calls.size
    return total
  }

  /** Messages not yet handed to any reader, over every session, whether one is attached or not. */
  unsentMessages(): number {
    let total = 0
    for (const session of this.#sessions.values()) total += session.unsentMessages
    return total
  }

  /** Calls in flight whose answer a client can still receive, over every session. */
  reachableCalls(): number {
    let total = 0
    for (const session of this.#sessions.values()) total += session.reachableCalls
    return total
  }

  /** Messages waiting for an attached reader, over every session (what a drain waits for). */
  deliverableMessages(): number {
    let total = 0
    for (const session of this.#sessions.values()) total += session.deliverableMessages
    return total
  }

  /**
   * Creates and registers a session with a fresh random id, owned by `owner` (the auth identity
   * that made it).
   * @throws SessionRefusedError at a limit (sessions, the owner's quota, the memory budget) or
   * while draining.
   */
  create(options: { endsWithStream: boolean; owner: string }): Session {
    this.#checkRoomFor(options.owner)
    let id = newSessionId()
    while (this.#sessions.has(id)) id = newSessionId()
    const session = new Session({
      id,
      limits: this.limits,
      events: this.#events,
      budget: this.budget,
      ...options,
    })
    this.#register(session)
    return session
  }

  #register(session: Session): void {
    const { sessionId: id, owner } = session
    this.#sessions.set(id, session)
    this.#perOwner.set(owner, (this.#perOwner.get(owner) ?? 0) + 1)
    this.metrics.sessionsOpened.inc()
    this.logger.debug('session_opened', { session: id })
    for (const listener of this.#lifecycle) listener.opened(session)
  }

  /**
   * Registers a Streamable HTTP session another instance held (its home died), under the same id
   * and with the state it negotiated there; its standalone stream continues the event numbering.
   * @throws SessionRefusedError at a limit, as `create`.
   */
  adopt(adopted: AdoptedSession): Session {
    const existing = this.#sessions.get(adopted.id)
    if (existing) return existing
    this.#checkRoomFor(adopted.owner)
    const session = new Session({
      id: adopted.id,
      limits: this.limits,
      events: this.#events,
      budget: this.budget,
      endsWithStream: false,
      owner: adopted.owner,
    })
    Object.assign(session.state, adopted.state)
    session.standalone.restore(adopted.standalone.events, adopted.standalone.lastSeq)
    // The stored events are counted in entries only: keep the bytes within the session's bound.
    const excess = session.replayBytes - this.limits.replayBytes
    if (excess > 0) session.forgetReplay(excess)
    this.#register(session)
    return session
  }

  /** The session's initialize was answered (the transport says so once its state is set). */
  initialized(session: Session): void {
    for (const listener of this.#lifecycle) listener.initialized?.(session)
  }

  /** Ids of the open sessions, oldest first. */
  ids(): IterableIterator<string> {
    return this.#sessions.keys()
  }

  /** The session with this id if `owner` owns it; another owner is told nothing exists. */
  get(id: string, owner?: string): Session | undefined {
    const session = this.#sessions.get(id)
    return session && (owner === undefined || session.owner === owner) ? session : undefined
  }

  /** Closes every session (shutdown). */
  closeAll(reason: CloseReason): void {
    for (const session of [...this.#sessions.values()]) session.close(reason)
    this.#reclaimer.stop()
  }

  /**
   * Admits `count` new requests of existing sessions, or refuses them all while the server
   * drains or holds its whole buffer budget.
   * @throws SessionRefusedError (counted in `sluice_limit_refusals_total`).
   */
  admitRequests(count: number): void {
    if (this.#draining) {
      throw this.#refuse(
        'draining',
        'Service Unavailable: sluice is shutting down; no new requests',
        count,
      )
    }
    if (this.budget.exhausted) {
      throw this.#refuse(
        'memory_budget',
        'Service Unavailable: sluice holds its whole buffer budget; retry later',
        count,
      )
    }
  }

  #refuse(reason: RefusalReason, message: string, count = 1): SessionRefusedError {
    this.metrics.limitRefusals.inc({ limit: reason }, count)
    return new SessionRefusedError(reason, message)
  }

  /** @throws SessionRefusedError naming the limit that leaves no room for a new session. */
  #checkRoomFor(owner: string): void {
    if (this.#draining) {
      throw this.#refuse('draining', 'Service Unavailable: sluice is shutting down')
    }
    const { maxSessions, maxSessionsPerOwner, maxBufferedBytes } = this.limits
    if (this.#sessions.size >= maxSessions) {
      throw this.#refuse(
        'max_sessions',
        `Service Unavailable: sluice holds its maximum of ${maxSessions} sessions; retry later`,
      )
    }
    if (maxSessionsPerOwner > 0 && (this.#perOwner.get(owner) ?? 0) >= maxSessionsPerOwner) {
      throw this.#refuse(
        'sessions_per_token',
        `Too Many Requests: this credential holds its quota of ${maxSessionsPerOwner} sessions; end one (DELETE) or retry later`,
      )
    }
    if (this.budget.exhausted) {
      throw this.#refuse(
        'memory_budget',
        `Service Unavailable: sluice holds its buffer budget of ${maxBufferedBytes} bytes; retry later`,
      )
    }
  }

  /**
   * Over the buffer budget: replay windows are a cache and go first; if that is not enough, the
   * session that holds the most is evicted, predictably.
   */
  #shedLoad(): void {
    for (const session of this.#sessions.values()) {
      if (!this.budget.exceeded) return
      session.forgetReplay(session.replayBytes)
    }
    if (this.budget.exceeded) this.#evictLargest()
  }

  #evictLargest(): void {
    let largest: Session | undefined
    for (const session of this.#sessions.values()) {
      if (!largest || session.heldBytes > largest.heldBytes) largest = session
    }
    if (largest) {
      this.logger.warn('memory_budget_exceeded', {
        usedBytes: this.budget.usedBytes,
        maxBytes: this.budget.maxBytes,
        evicted: largest.sessionId,
        heldBytes: largest.heldBytes,
      })
      largest.close('memory_budget')
    }
  }

  #forget(session: Session, reason: CloseReason): void {
    this.#sessions.delete(session.sessionId)
    const owned = (this.#perOwner.get(session.owner) ?? 1) - 1
    if (owned > 0) this.#perOwner.set(session.owner, owned)
    else this.#perOwner.delete(session.owner)
    this.metrics.sessionsClosed.inc({ reason })
    for (const listener of this.#lifecycle) listener.closed(session)
    // Evictions tell an operator something about a client; the rest is routine.
    const level =
      reason === 'send_deadline' || reason === 'queue_full' || reason === 'memory_budget'
        ? 'warn'
        : 'debug'
    this.logger[level]('session_closed', { session: session.sessionId, reason })
  }
}
