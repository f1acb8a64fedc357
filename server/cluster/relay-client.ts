import type { Counter } from '../observability/metrics.ts'
import { sessionNotFound, transportErrorResponse } from '../transport/transport-error.ts'
import type { RedisLink } from './connection.ts'
import { relayChannel } from './keys.ts'
import { encodeRelay, isRelayedHeader, type RelayMessage } from './relay-wire.ts'

/** Why a relay ended before its home finished it; the label of `sluice_relays_lost_total`. */
export type RelayLoss =
  | 'redis_lost'
  | 'home_gone'
  | 'buffer_full'
  | 'memory_budget'
  | 'send_deadline'
  | 'home_error'

/** The instance's budget of bytes held for clients (`--max-buffered-bytes`), shared with its sessions. */
export interface HeldBytes {
  adjust(deltaBytes: number): void
  readonly exceeded: boolean
}

export interface RelayLimits {
  /** The largest request body relayed (`--max-body-bytes`): the home would refuse a larger one. */
  maxBodyBytes: number
  /** Bytes a relayed answer may hold here, unread by its client, before the relay is ended. */
  maxBufferedBytes: number
  /** How long bytes may wait for the client to take them before the relay is ended. */
  sendDeadlineMs: number
}

interface InFlight {
  home: string
  sessionId: string
  /** Called when the home turns out to be gone before it answered. */
  onHomeGone: () => Response | undefined
  head: PromiseWithResolvers<Response>
  body?: ReadableStreamDefaultController<Uint8Array>
  /** Chunks from the home not yet asked for by the response stream. */
  pending: Uint8Array[]
  /** Bytes in `pending`. */
  queuedBytes: number
  /** Whether the response stream asked for a chunk that has not come yet. */
  wanted: boolean
  /** The home sent its end: what is left in `pending` drains, then the body closes. */
  finished: boolean
  /** When the client last took a chunk, or when the first chunk began to wait. */
  lastDrainAt: number
}

/**
 * The asking side of the relay: a request for a session that lives on another instance is sent
 * to that home over pub/sub, and answered here with a Response whose body is fed by the home's
 * chunks. What waits here for a slow client is bounded (bytes and the send deadline); past it,
 * the relay ends and the home aborts its request.
 */
export class RelayClient {
  readonly #inFlight = new Map<number, InFlight>()
  /** Aborts that could not be sent (Redis was away): sent once it is back, or the home serves on. */
  #unsentAborts: { home: string; id: number }[] = []
  #nextId = 1

  constructor(
    private readonly link: RedisLink,
    private readonly instanceId: string,
    private readonly limits: RelayLimits,
    private readonly lost: Counter,
    private readonly budget: HeldBytes,
  ) {}

  get inFlight(): number {
    return this.#inFlight.size
  }

  /** The homes that relays in flight wait on (watched for death). */
  homes(): Set<string> {
    const homes = new Set<string>()
    for (const relay of this.#inFlight.values()) if (!relay.finished) homes.add(relay.home)
    return homes
  }

  /**
   * Sends `request` to `home` and resolves to its answer once the head arrives. If the home is
   * gone before it answered, the answer is what `onHomeGone` returns, by default the usual 404 of
   * an unknown session.
   * @param body the request's body, already read.
   */
  forward(
    home: string,
    sessionId: string,
    request: Request,
    body: Uint8Array,
    onHomeGone: () => Response | undefined,
  ): Promise<Response> {
    const id = this.#nextId++
    const url = new URL(request.url)
    const headers: [string, string][] = []
    request.headers.forEach((value, name) => {
      if (isRelayedHeader(name)) headers.push([name, value])
    })
    const relay: InFlight = {
      home,
      sessionId,
      onHomeGone,
      head: Promise.withResolvers<Response>(),
      pending: [],
      queuedBytes: 0,
      wanted: false,
      finished: false,
      lastDrainAt: performance.now(),
    }
    this.#inFlight.set(id, relay)
    const message: RelayMessage = {
      t: 'req',
      id,
      from: this.instanceId,
      method: request.method,
      path: url.pathname + url.search,
      headers,
    }
    this.link.command.publish(relayChannel(home), encodeRelay(message, body)).then(
      // Nobody subscribed to the home's channel: it is gone, whatever its heartbeat says.
      (receivers) => {
        if (receivers === 0) this.end(id, 'home_gone')
      },
      () => this.end(id, 'redis_lost'),
    )
    // The client left before the answer came: the home stops too.
    request.signal.addEventListener('abort', () => this.#abort(id), { once: true })
    return relay.head.promise
  }

  /** A message from a home about one of our relays. */
  receive(message: RelayMessage, payload: Uint8Array): void {
    const relay = this.#inFlight.get(message.id)
    if (!relay) return
    if (message.t === 'head' && message.whole) {
      this.#inFlight.delete(message.id)
      const { status, headers } = message
      const body = status === 204 || status === 304 ? null : payload.slice()
      relay.head.resolve(new Response(body, { status, headers }))
    } else if (message.t === 'head') {
      relay.head.resolve(this.#respond(message.id, relay, message.status, message.headers))
    } else if (message.t === 'data') {
      this.#enqueue(message.id, relay, payload)
    } else if (message.t === 'end' && !relay.body) {
      // An end before any head: the home failed (or dropped the request) before answering.
      this.end(message.id, 'home_error')
    } else if (message.t === 'end') {
      if (message.error) this.lost.inc({ reason: 'home_error' })
      this.#finish(message.id, relay)
    }
  }

  /** Ends relay `id` before its home finished it (counted), and tells the home to stop. */
  end(id: number, reason: RelayLoss): void {
    const relay = this.#inFlight.get(id)
    if (!relay) return
    this.lost.inc({ reason })
    this.#abort(id)
    if (!relay.body && reason === 'home_gone') {
      relay.head.resolve(
        relay.onHomeGone() ?? transportErrorResponse(sessionNotFound(relay.sessionId)),
      )
    } else if (!relay.body) {
      relay.head.resolve(
        Response.json(
          {
            jsonrpc: '2.0',
            id: null,
            error: { code: -32000, message: RELAY_LOST_MESSAGES[reason] },
          },
          { status: 503, headers: { 'retry-after': '1' } },
        ),
      )
    }
  }

  /** Ends every relay in flight: Redis was lost, and the chunks on their way with it. */
  endAll(reason: RelayLoss): void {
    for (const [id, relay] of [...this.#inFlight]) if (!relay.finished) this.end(id, reason)
  }

  /** Ends the relays to `home` (its heartbeat is gone). */
  endTo(home: string): void {
    for (const [id, relay] of [...this.#inFlight])
      if (relay.home === home) this.end(id, 'home_gone')
  }

  /** Ends the relays whose client has left bytes untaken past the send deadline. */
  sweep(now = performance.now()): void {
    for (const [id, relay] of [...this.#inFlight]) {
      if (relay.queuedBytes > 0 && now - relay.lastDrainAt > this.limits.sendDeadlineMs) {
        this.end(id, 'send_deadline')
      }
    }
  }

  #respond(id: number, relay: InFlight, status: number, headers: [string, string][]): Response {
    const body = new ReadableStream<Uint8Array>({
      start: (controller) => {
        relay.body = controller
      },
      // Chunks are handed over one per pull, so that what waits here is counted exactly and a
      // pull means the client took the previous chunk.
      pull: (controller) => {
        relay.lastDrainAt = performance.now()
        const chunk = relay.pending.shift()
        if (chunk) {
          relay.queuedBytes -= chunk.length
          this.budget.adjust(-chunk.length)
          controller.enqueue(chunk)
        } else {
          relay.wanted = true
        }
        if (relay.finished && relay.pending.length === 0) this.#finish(id, relay)
      },
      cancel: () => this.#abort(id),
    })
    return new Response(status === 204 || status === 304 ? null : body, { status, headers })
  }

  #enqueue(id: number, relay: InFlight, payload: Uint8Array): void {
    if (!relay.body) return
    // The payload is a view into the pub/sub frame; copy so the frame can be freed.
    const chunk = payload.slice()
    if (relay.wanted) {
      relay.wanted = false
      relay.body.enqueue(chunk)
      return
    }
    if (relay.queuedBytes === 0) relay.lastDrainAt = performance.now()
    relay.pending.push(chunk)
    relay.queuedBytes += chunk.length
    this.budget.adjust(chunk.length)
    if (relay.queuedBytes > this.limits.maxBufferedBytes) this.end(id, 'buffer_full')
    // What all relays and sessions hold here together is bounded too (the home's own budget
    // never sees these bytes: the relay takes them from it as they come).
    else if (this.budget.exceeded) this.end(id, 'memory_budget')
  }

  /** The home sent its end: the body closes once the client took what waits here. */
  #finish(id: number, relay: InFlight): void {
    relay.finished = true
    if (relay.pending.length > 0) return
    this.#inFlight.delete(id)
    try {
      relay.body?.close()
    } catch {}
  }

  #abort(id: number): void {
    const relay = this.#inFlight.get(id)
    if (!relay) return
    this.#inFlight.delete(id)
    this.budget.adjust(-relay.queuedBytes)
    relay.queuedBytes = 0
    relay.pending = []
    try {
      relay.body?.close()
    } catch {}
    this.#sendAbort(relay.home, id)
  }

  /**
   * Redis is back: the homes of the relays that ended while it was away are told now. Our own
   * connection may have been the only one lost, and the home kept serving (a stream never ends).
   */
  flushAborts(): void {
    const unsent = this.#unsentAborts
    this.#unsentAborts = []
    for (const { home, id } of unsent) this.#sendAbort(home, id)
  }

  #sendAbort(home: string, id: number): void {
    if (!this.link.connected) {
      // Bounded: no relay starts while Redis is away, so these are the relays that were in flight.
      this.#unsentAborts.push({ home, id })
      return
    }
    const message: RelayMessage = { t: 'abort', id, from: this.instanceId }
    this.link.command
      .publish(relayChannel(home), encodeRelay(message))
      .catch(() => this.#unsentAborts.push({ home, id }))
  }
}

const RELAY_LOST_MESSAGES: Record<RelayLoss, string> = {
  redis_lost: 'Service Unavailable: the cluster lost its Redis connection; retry',
  home_gone: 'Not Found: the instance that held this session is gone',
  buffer_full: 'Service Unavailable: the relayed answer was not read',
  memory_budget: 'Service Unavailable: the server holds too much for its clients; retry',
  send_deadline: 'Service Unavailable: the relayed answer was not read',
  home_error: 'Service Unavailable: the instance that holds this session failed to answer',
}
