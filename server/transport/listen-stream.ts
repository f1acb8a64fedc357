import type { Logger } from '../observability/log.ts'
import type { ChangeBus, ChangeEvent } from '../protocol/change-bus.ts'
import { invalidParams } from '../protocol/errors.ts'
import type { JsonRpcMessage, JsonRpcRequest } from '../protocol/jsonrpc.ts'
import { type CachePolicy, modernShaper } from '../protocol/modern-results.ts'
import type { PeerState } from '../protocol/peer.ts'
import { isObject, META } from '../protocol/request-meta.ts'
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
}

/** The list-changed kinds a listen filter may ask for, with the notification each delivers. */
export const LIST_NOTIFICATIONS = {
  toolsListChanged: 'notifications/tools/list_changed',
  promptsListChanged: 'notifications/prompts/list_changed',
  resourcesListChanged: 'notifications/resources/list_changed',
} as const
export type ListKind = keyof typeof LIST_NOTIFICATIONS

/**
 * `subscriptions/listen` (2026-07-28): one long-lived POST whose SSE stream yields
 * `notifications/subscriptions/acknowledged` before any await, then only the change notifications
 * the client opted into and the server supports (list changes; updates of the resource URIs it
 * named), each tagged with the subscription id (the listen
 * request's id). The stream is as bounded as any other, and its close releases everything.
 */
export class ListenStreams {
  constructor(private readonly options: ListenStreamOptions) {}

  /** @throws ProtocolError -32602 for a malformed filter; SessionRefusedError past the cap. */
  open(
    request: Request,
    message: JsonRpcRequest,
    state: PeerState,
    connection: ConnectionControl,
  ): StreamReply {
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
    const tag = { [META.subscriptionId]: message.id }
    const shape = modernShaper(message.method, this.options.serverInfo, this.options.cache)
    const peer = this.options.requests.openSubscription(message.id, state, (m: JsonRpcMessage) =>
      shape(m),
    )
    // Queued before the stream exists: the generator's first frame, taken without an await.
    peer.send({
      jsonrpc: '2.0',
      method: 'notifications/subscriptions/acknowledged',
      params: { _meta: tag, notifications: agreed },
    })
    const deliver = (event: ChangeEvent) => {
      if (event.kind === 'resourceUpdated') {
        if (!watched.has(event.uri)) return
        const params = { _meta: tag, uri: event.uri }
        peer.send({ jsonrpc: '2.0', method: 'notifications/resources/updated', params })
        return
      }
      if (agreed[event.kind] !== true) return
      peer.send({ jsonrpc: '2.0', method: LIST_NOTIFICATIONS[event.kind], params: { _meta: tag } })
    }
    const unsubscribe = this.options.bus.subscribe(deliver)
    const onAbort = () => peer.close('client_abort')
    if (request.signal.aborted) onAbort()
    else request.signal.addEventListener('abort', onAbort, { once: true })
    peer.signal.addEventListener(
      'abort',
      () => {
        unsubscribe()
        request.signal.removeEventListener('abort', onAbort)
      },
      { once: true },
    )
    peer.attach(connection.drop)
    const body = streamSession(peer, peer.stream, {
      firstFrames: [],
      encode: (event) => encodeMessageFrame(event.json),
      onFrame: frameLogger(this.options.logger, peer.sessionId),
    })
    return { headers: {}, body }
  }
}
