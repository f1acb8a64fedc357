import type { RequestId } from './jsonrpc.ts'

/** The in-flight requests of one session, each with the controller that cancels it. */
export class PendingCalls {
  readonly #calls = new Map<RequestId, AbortController>()

  get size(): number {
    return this.#calls.size
  }

  has(id: RequestId): boolean {
    return this.#calls.has(id)
  }

  /** Starts tracking a call; undefined when a call with that id is already in flight. */
  begin(id: RequestId): AbortController | undefined {
    if (this.#calls.has(id)) return undefined
    const controller = new AbortController()
    this.#calls.set(id, controller)
    return controller
  }

  end(id: RequestId, controller: AbortController): void {
    if (this.#calls.get(id) === controller) this.#calls.delete(id)
  }

  /** Aborts one call (notifications/cancelled); false when no such call is in flight. */
  cancel(id: RequestId, reason: string): boolean {
    const controller = this.#calls.get(id)
    if (!controller) return false
    this.#calls.delete(id)
    controller.abort(new CallCancelledError(reason))
    return true
  }

  /** Aborts every call; used once, when the session closes. */
  cancelAll(reason: string): void {
    for (const controller of this.#calls.values()) controller.abort(new CallCancelledError(reason))
    this.#calls.clear()
  }
}

/** The reason a tool call's AbortSignal carries. */
export class CallCancelledError extends Error {
  override readonly name = 'CallCancelledError'
}
