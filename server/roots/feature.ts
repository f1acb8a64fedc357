import type { Logger } from '../observability/log.ts'
import type { McpFeature, MethodHandler, NotificationHandler } from '../protocol/feature.ts'

/** Hears which session's roots changed; may be async. */
export type RootsListener = (sessionId: string) => void | Promise<void>

/**
 * `notifications/roots/list_changed` from clients: listeners hear which session's roots changed
 * (a handler then asks again with `ctx.listRoots()`). Contributes no capability and no method.
 * A listener that throws (or rejects) is logged at warn and does not keep the others from hearing.
 */
export class RootsFeature implements McpFeature {
  readonly methods: ReadonlyMap<string, MethodHandler> = new Map()
  readonly notifications: ReadonlyMap<string, NotificationHandler>
  readonly #listeners = new Set<RootsListener>()

  constructor(private readonly logger: Logger) {
    this.notifications = new Map<string, NotificationHandler>([
      [
        'notifications/roots/list_changed',
        (_note, peer) => {
          for (const listener of this.#listeners) this.#call(listener, peer.sessionId)
        },
      ],
    ])
  }

  #call(listener: RootsListener, sessionId: string): void {
    const failed = (err: unknown) =>
      this.logger.warn('roots_listener_failed', { session: sessionId, err })
    try {
      const result = listener(sessionId)
      if (result instanceof Promise) result.catch(failed)
    } catch (err) {
      failed(err)
    }
  }

  capabilities(): undefined {
    return undefined
  }

  /** Calls `listener` with the session id whenever a client says its roots changed; returns the unsubscribe. */
  onListChanged(listener: RootsListener): () => void {
    this.#listeners.add(listener)
    return () => this.#listeners.delete(listener)
  }
}
