import type { Logger } from '../observability/log.ts'
import type { ChangeBus, ChangeEvent } from '../protocol/change-bus.ts'
import { invalidParams } from '../protocol/errors.ts'
import type { JsonRpcMessage, JsonRpcRequest, RequestId } from '../protocol/jsonrpc.ts'
import { type CachePolicy, modernShaper } from '../protocol/modern-results.ts'
import type { PeerState } from '../protocol/peer.ts'
import { isObject, META } from '../protocol/request-meta.ts'
import type { StreamEvent } from '../session/event-stream.ts'
import type { RequestPeer } from '../session/request-peer.ts'
import type { RequestRegistry } from '../session/request-registry.ts'
import { streamSession } from './session-stream.ts'
import { encodeMessageFrame, frameLogger } from './sse-frame.ts'
import type { StreamReply } from './stateless-http.ts'
import type { ConnectionControl } from './streamable-http.ts'

export interface ListenStreamOptions {
  requests: RequestRegistry
  bus: ChangeBus
  logger: Logger
  serverInfo: { name: string; version: string }
  cache: CachePolicy
  /** Which notification kinds this server can deliver (its list-changed capabilities). */
  supported: ReadonlySet<ListKind>
  /**
   * The bounds of each listen stream's queue (those its RequestPeer enforces): a listen stream keeps
   * room for its final response, so a reader that falls behind gets a graceful end, not a cut.
   */
  limits: { maxQueueMessages: number; maxQueueBytes: number }
  /** A listen stream ended early because its queue was full (for /metrics). */
  onQueueFull?: () => void
}

/** The list-changed kinds a listen filter may ask for, with the notification each delivers. */
export const LIST_NOTIFICATIONS = {
  toolsListChanged: 'notifications/tools/list_changed',
  promptsListChanged: 'notifications/prompts/list_changed',
  resourcesListChanged: 'notifications/resources/list_changed',
} as const
export type ListKind = keyof typeof LIST_NOTIFICATIONS

/**
 * One change notification, encoded once per publish for every listen stream that hears it: only
 * the subscription id differs between streams, and it goes between `prefix` and `suffix`.
 */
interface EncodedChange {
  /** What coalesces: a list kind, or `resource:` and the URI. */
  key: string
  prefix: string
  suffix: string
  /** UTF-8 bytes of prefix and suffix. */
  bytes: number
}

const SUBSCRIPTION_ID_JSON = JSON.stringify(META.subscriptionId)

function encodeChange(event: ChangeEvent, key: string): EncodedChange {
  const resource = event.kind === 'resourceUpdated'
  const method = resource ? 'notifications/resources/updated' : LIST_NOTIFICATIONS[event.kind]
  const prefix = `{"jsonrpc":"2.0","method":${JSON.stringify(method)},"params":{"_meta":{${SUBSCRIPTION_ID_JSON}:`
  const suffix = resource ? `},"uri":${JSON.stringify(event.uri)}}}` : '}}}'
  return { key, prefix, suffix, bytes: Buffer.byteLength(prefix) + Buffer.byteLength(suffix) }
}

/**
 * One open listen stream as the fan-out sees it. It coalesces: a notification whose key is already
 * queued and not yet handed to the reader is not queued again (the queued one says the same), so
 * what it holds is bounded by the kinds and URIs it named, however fast things change.
 */
class Listener {
  /** The seq at which each key was last queued (made with the first); unsent while > sent seq. */
  #queuedAt: Map<string, number> | undefined
  readonly #idJson: string
  readonly #idBytes: number

  constructor(
    readonly peer: RequestPeer,
    /** What it hears: list kinds, and `resource:` with each URI (a few, so a list, not a set). */
    readonly keys: readonly string[],
    /** UTF-8 bytes of the final response, for which room is always kept. */
    private readonly finalBytes: number,
    /** Its owner, which ends the stream gracefully when its queue is full. */
    private readonly streams: ListenStreams,
  ) {
    this.#idJson = JSON.stringify(peer.requestId)
    this.#idBytes = Buffer.byteLength(this.#idJson)
  }

  offer(change: EncodedChange, limits: ListenStreamOptions['limits']): void {
    const stream = this.peer.stream
    // Answered (shutdown, or a full queue) or closed: nothing more goes on this stream.
    if (stream.ended || stream.closed) return
    const sentSeq = stream.lastSeq - stream.unsent
    if ((this.#queuedAt?.get(change.key) ?? 0) > sentSeq) return
    const bytes = change.bytes + this.#idBytes
    const room =
      stream.unsent + 2 <= limits.maxQueueMessages &&
      stream.heldBytes + bytes + this.finalBytes <= limits.maxQueueBytes
    if (!room) {
      this.streams.endForFullQueue(this)
      return
    }
    const outcome = stream.push(change.prefix + this.#idJson + change.suffix, bytes)
    if (outcome === 'queued') {
      this.#queuedAt ??= new Map()
      this.#queuedAt.set(change.key, stream.lastSeq)
    } else if (outcome === 'full') this.peer.close('queue_full')
  }
}

/** The graceful closure, as at shutdown: the response to the listen request is its last message. */
function finalResponse(requestId: RequestId): JsonRpcMessage {
  return { jsonrpc: '2.0', id: requestId, result: { _meta: { [META.subscriptionId]: requestId } } }
}

/** A listen stream's events: `event: message` frames, without ids (nothing is resumed). */
const encodeEvent = (event: StreamEvent) => encodeMessageFrame(event.json)

/**
 * `subscriptions/listen` (2026-07-28): one long-lived POST whose SSE stream yields
 * `notifications/subscriptions/acknowledged` before any await, then only the change notifications
 * the client opted into and the server supports (list changes; updates of the resource URIs it
 * named), each tagged with the subscription id (the listen request's id), coalesced while unsent.
 * All listen streams share one subscription to the change bus, held while any is open. The stream
 * is as bounded as any other; a full queue ends it with its response, and its close releases
 * everything.
 */
export class ListenStreams {
  /** Open listen streams by the key they hear (a list kind, or `resource:` and a URI). */
  readonly #byKey = new Map<string, Set<Listener>>()
  /** Open listen streams that hear anything, by their peer. */
  readonly #byPeer = new Map<RequestPeer, Listener>()
  #unsubscribe: (() => void) | undefined
  /** How a listen stream's messages leave (its final response gets `resultType`, serverInfo). */
  readonly #shape: (message: JsonRpcMessage) => JsonRpcMessage

  constructor(private readonly options: ListenStreamOptions) {
    this.#shape = modernShaper('subscriptions/listen', options.serverInfo, options.cache)
    // A listen stream's one close path (client gone, deadline, full queue, shutdown) ends here.
    options.requests.onSubscriptionClosed((peer) => {
      const listener = this.#byPeer.get(peer)
      if (listener) this.#remove(listener)
    })
  }

  /** @throws ProtocolError -32602 for a malformed filter; SessionRefusedError past the cap. */
  open(message: JsonRpcRequest, state: PeerState, connection: ConnectionControl): StreamReply {
    const filter = message.params?.notifications
    if (filter !== undefined && !isObject(filter)) {
      throw invalidParams('"notifications" of subscriptions/listen must be an object')
    }
    const agreed: Record<string, unknown> = {}
    for (const kind of this.options.supported) if (filter?.[kind] === true) agreed[kind] = true
    const uris = filter?.resourceSubscriptions
    if (uris !== undefined && !(Array.isArray(uris) && uris.every((u) => typeof u === 'string'))) {
      throw invalidParams('"resourceSubscriptions" of subscriptions/listen must be a list of URIs')
    }
    const watched = new Set<string>(uris ?? [])
    if (watched.size > 0) agreed.resourceSubscriptions = [...watched]
    const peer = this.options.requests.openSubscription(message.id, state, this.#shape)
    // Queued before the stream exists: the generator's first frame, taken without an await.
    peer.send({
      jsonrpc: '2.0',
      method: 'notifications/subscriptions/acknowledged',
      params: { _meta: { [META.subscriptionId]: message.id }, notifications: agreed },
    })
    const keys = new Set<string>(Object.keys(agreed).filter((k) => k !== 'resourceSubscriptions'))
    for (const uri of watched) keys.add(`resource:${uri}`)
    const finalBytes = Buffer.byteLength(JSON.stringify(this.#shape(finalResponse(message.id))))
    this.#add(new Listener(peer, [...keys], finalBytes, this))
    // The client leaving closes the stream at once, even with the generator parked on it (Bun
    // calls its return(), which detaches the peer); the peer's close removes the listener
    // (onSubscriptionClosed).
    peer.attach(connection)
    const body = streamSession(peer, peer.stream, {
      firstFrames: [],
      encode: encodeEvent,
      onFrame: frameLogger(this.options.logger, peer.sessionId),
    })
    return { headers: {}, body }
  }

  /** A stream whose queue is full ends gracefully: no more changes, then its final response. */
  endForFullQueue(listener: Listener): void {
    const { peer } = listener
    this.#remove(listener)
    this.options.onQueueFull?.()
    this.options.logger.warn('listen_queue_full', {
      id: peer.sessionId,
      unsent: peer.stream.unsent,
    })
    peer.send(finalResponse(peer.requestId))
  }

  /** One publish: encoded once, offered to the streams that hear its key. */
  #deliver = (event: ChangeEvent): void => {
    const key = event.kind === 'resourceUpdated' ? `resource:${event.uri}` : event.kind
    const listeners = this.#byKey.get(key)
    if (!listeners) return
    const change = encodeChange(event, key)
    for (const listener of listeners) listener.offer(change, this.options.limits)
  }

  #add(listener: Listener): void {
    if (listener.keys.length === 0 || listener.peer.isClosed) return
    for (const key of listener.keys) {
      const set = this.#byKey.get(key)
      if (set) set.add(listener)
      else this.#byKey.set(key, new Set([listener]))
    }
    this.#byPeer.set(listener.peer, listener)
    if (this.#byPeer.size === 1) this.#unsubscribe = this.options.bus.subscribe(this.#deliver)
  }

  /** Idempotent: a stream ended for a full queue is removed again when its peer closes. */
  #remove(listener: Listener): void {
    if (!this.#byPeer.delete(listener.peer)) return
    for (const key of listener.keys) {
      const set = this.#byKey.get(key)
      if (set?.delete(listener) && set.size === 0) this.#byKey.delete(key)
    }
    if (this.#byPeer.size === 0) {
      this.#unsubscribe?.()
      this.#unsubscribe = undefined
    }
  }
}
