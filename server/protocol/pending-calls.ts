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
 * The in-flight requests of one session, each with the handle that cancels it. The first call is
 * held without a map: a 2026-07-28 request's peer (one per POST) never has a second, and a
 * session mostly has one call at a time.
 */
export class PendingCalls {
  #firstId: RequestId | undefined
  #first: PendingCall | undefined
  /** The calls beside the first, made when there are some. */
  #others: Map<RequestId, PendingCall> | undefined

  get size(): number {
    return (this.#first ? 1 : 0) + (this.#others?.size ?? 0)
  }

  has(id: RequestId): boolean {
    return (this.#first !== undefined && this.#firstId === id) || this.#others?.has(id) === true
  }

  /** Starts tracking a call; undefined when a call with that id is already in flight. */
  begin(id: RequestId): PendingCall | undefined {
    if (this.has(id)) return undefined
    const call = new PendingCall()
    if (this.#first) {
      this.#others ??= new Map()
      this.#others.set(id, call)
    } else {
      this.#first = call
      this.#firstId = id
    }
    return call
  }

  end(id: RequestId, call: PendingCall): void {
    if (this.#first === call && this.#firstId === id) this.#clearFirst()
    else if (this.#others?.get(id) === call) this.#others.delete(id)
  }

  /** Aborts one call (notifications/cancelled); false when no such call is in flight. */
  cancel(id: RequestId, reason: string): boolean {
    let call: PendingCall | undefined
    if (this.#first && this.#firstId === id) {
      call = this.#first
      this.#clearFirst()
    } else {
      call = this.#others?.get(id)
      if (!call) return false
      this.#others?.delete(id)
    }
    call.abort(new CallCancelledError(reason))
    return true
  }

  /** Aborts every call; used once, when the session closes. */
  cancelAll(reason: string): void {
    const first = this.#first
    this.#clearFirst()
    first?.abort(new CallCancelledError(reason))
    const others = this.#others
    this.#others = undefined
    for (const call of others?.values() ?? []) call.abort(new CallCancelledError(reason))
  }

  #clearFirst(): void {
    this.#first = undefined
    this.#firstId = undefined
  }
}

/** The reason a tool call's AbortSignal carries. */
export class CallCancelledError extends Error {
  override readonly name = 'CallCancelledError'
}
