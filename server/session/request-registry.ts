import type { ServerMetrics } from '../observability/server-metrics.ts'
import type { InputChannel } from '../protocol/context.ts'
import type { JsonRpcMessage, RequestId } from '../protocol/jsonrpc.ts'
import type { PeerState } from '../protocol/peer.ts'
import { META } from '../protocol/request-meta.ts'
import type { BufferBudget } from './buffer-budget.ts'
import { SessionRefusedError } from './errors.ts'
import { type RequestCloseReason, RequestPeer, type RequestPeerLimits } from './request-peer.ts'

export interface RequestRegistryOptions {
  limits: RequestPeerLimits
  budget: BufferBudget
  metrics: ServerMetrics
  /** `subscriptions/listen` streams open at once before more are refused. */
  maxSubscriptions: number
}

/**
 * The 2026-07-28 era's open requests and listen streams: there are no sessions, so this is what
 * /metrics counts, what shutdown ends, and where the subscription cap is kept.
 */
export class RequestRegistry {
  readonly #requests = new Set<RequestPeer>()
  readonly #subscriptions = new Set<RequestPeer>()
  #next = 0
  #onSubscriptionClosed: ((peer: RequestPeer) => void) | undefined

  constructor(private readonly options: RequestRegistryOptions) {
    for (const reason of ['complete', 'client_abort', 'send_deadline', 'queue_full', 'shutdown']) {
      options.metrics.requestsClosed.inc({ reason }, 0)
    }
  }

  /** Calls `listener` with every listen stream's peer as it closes, whichever way (one listener). */
  onSubscriptionClosed(listener: (peer: RequestPeer) => void): void {
    this.#onSubscriptionClosed = listener
  }

  /** Every peer's one close path ends here: shared by all of them, not made per peer. */
  readonly #closed = (peer: RequestPeer, reason: RequestCloseReason): void => {
    this.options.metrics.requestsClosed.inc({ reason })
    if (this.#requests.delete(peer)) return
    if (this.#subscriptions.delete(peer)) this.#onSubscriptionClosed?.(peer)
  }

  readonly #cancelSettled = (ms: number): void =>
    this.options.metrics.cancelLatency.observe(ms / 1000)

  /** Requests being answered now (listen streams not included). */
  get inFlight(): number {
    return this.#requests.size
  }

  get subscriptionsOpen(): number {
    return this.#subscriptions.size
  }

  /** Messages waiting for an attached reader, over every request and listen stream. */
  deliverableMessages(): number {
    let total = 0
    for (const peer of this.#requests) total += peer.deliverableMessages
    return total
  }

  /** Messages not yet handed to a reader, over every request. */
  unsentMessages(): number {
    let total = 0
    for (const peer of this.#requests) total += peer.stream.unsent
    return total
  }

  /** Tool calls running now on the stateless path. */
  pendingCalls(): number {
    let total = 0
    for (const peer of this.#requests) total += peer.calls.size
    return total
  }

  /** A peer for one request; it leaves the registry on its one close path. */
  open(
    requestId: RequestId,
    state: PeerState,
    shape: (message: JsonRpcMessage) => JsonRpcMessage,
    input?: InputChannel,
  ): RequestPeer {
    return this.#open(this.#requests, 'r', requestId, state, shape, input)
  }

  /**
   * A peer for one `subscriptions/listen` stream.
   * @throws SessionRefusedError when `maxSubscriptions` streams are open.
   */
  openSubscription(
    requestId: RequestId,
    state: PeerState,
    shape: (message: JsonRpcMessage) => JsonRpcMessage,
  ): RequestPeer {
    if (this.#subscriptions.size >= this.options.maxSubscriptions) {
      this.options.metrics.limitRefusals.inc({ limit: 'max_subscriptions' })
      throw new SessionRefusedError(
        'max_subscriptions',
        `Service Unavailable: ${this.#subscriptions.size} subscriptions/listen streams are open, this server's limit; retry later`,
      )
    }
    return this.#open(this.#subscriptions, 'l', requestId, state, shape)
  }

  /**
   * Ends every listen stream gracefully: the response to its `subscriptions/listen` request is its
   * last message (the spec's graceful closure), then the stream ends.
   */
  endSubscriptions(): void {
    for (const peer of this.#subscriptions) {
      const tag = { [META.subscriptionId]: peer.requestId }
      peer.send({ jsonrpc: '2.0', id: peer.requestId, result: { _meta: tag } })
    }
  }

  /** Ends every open request and listen stream at once (shutdown, stop). */
  closeAll(reason: RequestCloseReason): void {
    for (const peer of [...this.#requests, ...this.#subscriptions]) peer.close(reason)
  }

  #open(
    set: Set<RequestPeer>,
    prefix: string,
    requestId: RequestId,
    state: PeerState,
    shape: (message: JsonRpcMessage) => JsonRpcMessage,
    input?: InputChannel,
  ): RequestPeer {
    const peer = new RequestPeer({
      id: `${prefix}${++this.#next}`,
      requestId,
      state,
      ...(input ? { input } : {}),
      limits: this.options.limits,
      budget: this.options.budget,
      shape,
      onCancelSettled: this.#cancelSettled,
      onClose: this.#closed,
    })
    set.add(peer)
    return peer
  }
}
