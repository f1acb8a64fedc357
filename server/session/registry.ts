import type { Logger } from '../observability/log.ts'
import type { CloseReason, ServerMetrics } from '../observability/server-metrics.ts'
import { Session, type SessionEvents, type SessionLimits } from './session.ts'
import { newSessionId } from './session-id.ts'

/** Owns every open session; the only place sessions are created and forgotten. */
export class SessionRegistry {
  readonly #sessions = new Map<string, Session>()
  #streamsOpen = 0
  readonly #events: SessionEvents

  constructor(
    readonly limits: SessionLimits,
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

  /** Creates and registers a session with a fresh random id. */
  create(options: { endsWithStream: boolean }): Session {
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

  get(id: string): Session | undefined {
    return this.#sessions.get(id)
  }

  /** Closes every session (shutdown). */
  closeAll(reason: CloseReason): void {
    for (const session of [...this.#sessions.values()]) session.close(reason)
  }

  #forget(session: Session, reason: CloseReason): void {
    this.#sessions.delete(session.sessionId)
    this.metrics.sessionsClosed.inc({ reason })
    this.logger.debug('session_closed', { session: session.sessionId, reason })
  }
}
