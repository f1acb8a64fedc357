import type { Logger } from '../observability/log.ts'
import type { CloseReason, ServerMetrics } from '../observability/server-metrics.ts'
import { SessionRefusedError } from './errors.ts'
import { Session, type SessionEvents, type SessionLimits } from './session.ts'
import { newSessionId } from './session-id.ts'

/** Owns every open session; the only place sessions are created and forgotten. */
export class SessionRegistry {
  readonly #sessions = new Map<string, Session>()
  #streamsOpen = 0
  #draining = false
  readonly #events: SessionEvents

  constructor(
    readonly limits: SessionLimits & { maxSessions: number },
    private readonly metrics: ServerMetrics,
    private readonly logger: Logger,
  ) {
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
      closed: (session, reason) => this.#forget(session, reason),
    }
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

  /** Messages queued but not yet taken by a stream, over every session. */
  queuedMessages(): number {
    let total = 0
    for (const session of this.#sessions.values()) total += session.queuedMessages
    return total
  }

  /**
   * Creates and registers a session with a fresh random id, owned by `owner` (the auth identity
   * that made it).
   * @throws SessionRefusedError at the session limit or while draining.
   */
  create(options: { endsWithStream: boolean; owner: string }): Session {
    if (this.#draining) {
      throw new SessionRefusedError('draining', 'Service Unavailable: sluice is shutting down')
    }
    if (this.#sessions.size >= this.limits.maxSessions) {
      throw new SessionRefusedError(
        'max_sessions',
        `Service Unavailable: sluice holds its maximum of ${this.limits.maxSessions} sessions; retry later`,
      )
    }
    let id = newSessionId()
    while (this.#sessions.has(id)) id = newSessionId()
    const session = new Session({ id, limits: this.limits, events: this.#events, ...options })
    this.#sessions.set(id, session)
    this.metrics.sessionsOpened.inc()
    this.logger.debug('session_opened', { session: id })
    return session
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
  }

  #forget(session: Session, reason: CloseReason): void {
    this.#sessions.delete(session.sessionId)
    this.metrics.sessionsClosed.inc({ reason })
    // Evictions tell an operator something about a client; the rest is routine.
    const level = reason === 'send_deadline' || reason === 'queue_full' ? 'warn' : 'debug'
    this.logger[level]('session_closed', { session: session.sessionId, reason })
  }
}
