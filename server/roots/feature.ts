import type { McpFeature, MethodHandler, NotificationHandler } from '../protocol/feature.ts'

/**
 * `notifications/roots/list_changed` from clients: listeners hear which session's roots changed
 * (a handler then asks again with `ctx.listRoots()`). Contributes no capability and no method.
 */
export class RootsFeature implements McpFeature {
  readonly methods: ReadonlyMap<string, MethodHandler> = new Map()
  readonly notifications: ReadonlyMap<string, NotificationHandler>
  readonly #listeners = new Set<(sessionId: string) => void>()

  constructor() {
    this.notifications = new Map<string, NotificationHandler>([
      [
        'notifications/roots/list_changed',
        (_note, peer) => {
          for (const listener of this.#listeners) listener(peer.sessionId)
        },
      ],
    ])
  }

  capabilities(): undefined {
    return undefined
  }

  /** Calls `listener` with the session id whenever a client says its roots changed; returns the unsubscribe. */
  onListChanged(listener: (sessionId: string) => void): () => void {
    this.#listeners.add(listener)
    return () => this.#listeners.delete(listener)
  }
}
