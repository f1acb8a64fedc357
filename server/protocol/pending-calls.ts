import type { RequestId } from './jsonrpc.ts'

/**
 * One call in flight and its cancellation. Its AbortController is made only when someone asks
 * for `signal` (a handler that listens, an input request): most calls end without either.
 */
export class PendingCall {
  #controller: AbortController | undefined
  #aborted = false
  #reason: unknown

  /** Whether the call was cancelled. */
  get aborted(): boolean {
    return this.#aborted
  }

  /** Aborts when the call is cancelled; asked for after that, it is already aborted. */
  get signal(): AbortSignal {
    if (!this.#controller) {
      this.#controller = new AbortController()
      if (this.#aborted) this.#controller.abort(this.#reason)
    }
    return this.#controller.signal
  }

  abort(reason: unknown): void {
    if (this.#aborted) return
    this.#aborted = true
    this.#reason = reason
    this.#controller?.abort(reason)
  }
}

/**
 * The in-flight requests of one session, each with the handle that cancels it. Its map is made
 * with the first call: an idle session holds none.
 */
export class PendingCalls {
  #calls: Map<RequestId, PendingCall> | undefined

  get size(): number {
    return this.#calls?.size ?? 0
  }

  has(id: RequestId): boolean {
    return this.#calls?.has(id) ?? false
  }

  /** Starts tracking a call; undefined when a call with that id is already in flight. */
  begin(id: RequestId): PendingCall | undefined {
    this.#calls ??= new Map()
    if (this.#calls.has(id)) return undefined
    const call = new PendingCall()
    this.#calls.set(id, call)
    return call
  }

  end(id: RequestId, call: PendingCall): void {
    if (this.#calls?.get(id) === call) this.#calls.delete(id)
  }

  /** Aborts one call (notifications/cancelled); false when no such call is in flight. */
  cancel(id: RequestId, reason: string): boolean {
    const call = this.#calls?.get(id)
    if (!call) return false
    this.#calls?.delete(id)
    call.abort(new CallCancelledError(reason))
    return true
  }

  /** Aborts every call; used once, when the session closes. */
  cancelAll(reason: string): void {
    const calls = this.#calls
    if (!calls) return
    for (const call of calls.values()) call.abort(new CallCancelledError(reason))
    calls.clear()
  }
}

/** The reason a tool call's AbortSignal carries. */
export class CallCancelledError extends Error {
  override readonly name = 'CallCancelledError'
}
