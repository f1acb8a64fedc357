import type { Logger } from '../observability/log.ts'
import type { ServerMetrics } from '../observability/server-metrics.ts'
import type { Dispatcher } from '../protocol/dispatcher.ts'
import { invalidRequest, ProtocolError } from '../protocol/errors.ts'
import {
  isRequest,
  type JsonRpcRequest,
  parseJson,
  type RequestId,
  toJsonRpcMessage,
} from '../protocol/jsonrpc.ts'
import { type CachePolicy, modernShaper } from '../protocol/modern-results.ts'
import type { PeerState } from '../protocol/peer.ts'
import type { RequestStateSigner } from '../protocol/request-state.ts'
import { ROUND_TRIP_METHODS, RoundTripInput } from '../protocol/round-trip.ts'
import type { RequestPeer } from '../session/request-peer.ts'
import type { RequestRegistry } from '../session/request-registry.ts'
import { acceptOf, notAcceptable } from './accept.ts'
import { jsonResponseInit } from './json-reply.ts'
import { checkModernRequest, statusOfAnswer, statusOfError } from './modern-request.ts'
import { pacedBody } from './paced-body.ts'
import { rejectionResponse } from './rejection.ts'
import { FRAME_SLICE_BYTES, fitsOneSlice, streamSession } from './session-stream.ts'
import {
  encodeMessageFrame,
  frameLogger,
  messageFrameText,
  OPEN_COMMENT_FRAME,
  OPEN_COMMENT_TEXT,
  SSE_RESPONSE_INIT,
} from './sse-frame.ts'
import type { ConnectionControl } from './streamable-http.ts'
import {
  clientGoneResponse,
  serviceUnavailable,
  TransportError,
  toTransportError,
} from './transport-error.ts'

/** How a 2026 request is answered: JSON unless the handler emits a related message first (auto). */
export type ResponseMode = 'auto' | 'json' | 'sse'

/** A POST's body as the era router read it: its text, its JSON value, or why it is not JSON. */
export type ModernBody = { text: string } | { value: unknown } | { notJson: ProtocolError }

/** An SSE answer of the 2026 era: the HTTP layer sets the SSE headers and streams the body. */
export interface StreamReply {
  headers: Record<string, string>
  body: AsyncGenerator<Uint8Array, void, undefined>
}

/** Answers one `subscriptions/listen` request (see listen-stream.ts). */
export type ListenHandler = (
  request: Request,
  message: JsonRpcRequest,
  state: PeerState,
  connection: ConnectionControl,
) => StreamReply

export interface StatelessHttpOptions {
  requests: RequestRegistry
  dispatcher: Dispatcher
  metrics: ServerMetrics
  logger: Logger
  serverInfo: { name: string; version: string }
  cache: CachePolicy
  responseMode: ResponseMode
  /** The published input schema of a tool, for its `x-mcp-header` parameters. */
  toolSchema: (name: string) => unknown
  /** Refuses new work while draining or over the memory budget (SessionRefusedError). */
  admit: () => void
  /** Signs and verifies the `requestState` of multi-round-trip attempts. */
  requestStates: RequestStateSigner
  /** The largest `requestState` sealed: a retry must still fit the body limit. */
  maxRequestStateBytes: number
  /** How long an answer may wait for its reader to take it, in ms. */
  sendDeadlineMs: number
  listen: ListenHandler
}

const encoder = new TextEncoder()
/** Room for an event's `event:` line around its JSON. */
const FRAME_OVERHEAD_BYTES = 32

/**
 * MCP 2026-07-28 on POST /mcp: one request per POST, no session. Each request is validated at the
 * edge (`_meta`, SEP-2243 headers), served by a peer of its own and answered as one JSON body or
 * as an SSE stream scoped to it, whose close is the request's cancellation.
 */
export class StatelessHttpTransport {
  constructor(private readonly options: StatelessHttpOptions) {}

  /**
   * One POST whose body the era router has read, from the principal `owner`: as its text, or
   * already parsed (`value`).
   */
  async post(
    request: Request,
    owner: string,
    body: ModernBody,
    connection: ConnectionControl,
  ): Promise<Response | StreamReply> {
    let id: RequestId | null = null
    try {
      const accepts = acceptOf(request)
      if (!accepts.json && !accepts.sse) {
        throw notAcceptable('application/json or text/event-stream')
      }
      if ('notJson' in body) throw body.notJson
      const text = 'text' in body ? body.text : undefined
      const value = text === undefined ? (body as { value: unknown }).value : parseJson(text)
      if (Array.isArray(value)) throw invalidRequest('2026-07-28 takes one message per POST')
      const message = toJsonRpcMessage(value)
      if (!('method' in message)) throw invalidRequest('a client must not send responses')
      // No client notification is defined over HTTP in 2026-07-28 (a closed stream is the
      // cancellation); accept and ignore them, as a notifications/cancelled after a close.
      if (!isRequest(message)) return new Response(null, { status: 202 })
      id = message.id
      const state = checkModernRequest(request.headers, message, {
        knows: (method) => this.options.dispatcher.knows(method),
        toolSchema: this.options.toolSchema,
      })
      this.options.admit()
      if (message.method === 'subscriptions/listen') {
        return this.options.listen(request, message, state, connection)
      }
      const mode = this.#modeFor(accepts)
      // Input requests travel by multi round-trip: this attempt's answers, verified.
      const input = ROUND_TRIP_METHODS.has(message.method)
        ? RoundTripInput.forRequest(
            this.options.requestStates,
            message.method,
            message.params,
            owner,
            this.options.maxRequestStateBytes,
            // The parameters as they arrived: the body's text, read again only if needed.
            // Parsed by Bun from the bytes, they are copied now.
            text === undefined
              ? undefined
              : () => (JSON.parse(text) as { params?: Record<string, unknown> }).params,
          )
        : undefined
      return await this.#answer(request, message, state, mode, connection, input)
    } catch (err) {
      return this.reject(err, id)
    }
  }

  #modeFor(accepts: { json: boolean; sse: boolean }): ResponseMode {
    if (!accepts.sse) return 'json'
    if (!accepts.json) return 'sse'
    return this.options.responseMode
  }

  async #answer(
    request: Request,
    message: JsonRpcRequest,
    state: PeerState,
    mode: ResponseMode,
    connection: ConnectionControl,
    input: RoundTripInput | undefined,
  ): Promise<Response | StreamReply> {
    const { serverInfo, cache } = this.options
    const peer = this.options.requests.open(
      message.id,
      state,
      modernShaper(message.method, serverInfo, cache),
      input,
    )
    this.options.dispatcher.dispatch(message, peer)
    // The client closing its connection (or its stream) cancels the request, at once. A request
    // answered synchronously has nothing left to cancel: no listener for it, and its request's
    // signal is never asked for (Bun makes it on first access, about 3% of such a request).
    if (!peer.stream.ended) this.#cancelOnAbort(request, peer)
    if (mode === 'sse') {
      return (
        this.#wholeSseReply(peer, OPEN_COMMENT_TEXT) ??
        this.#sseReply(peer, connection, [OPEN_COMMENT_FRAME])
      )
    }
    const first = peer.arrived ?? (await peer.firstArrival)
    if (first === 'notification' && mode === 'auto') {
      return this.#wholeSseReply(peer, '') ?? this.#sseReply(peer, connection, [])
    }
    return this.#jsonReply(request, peer, connection)
  }

  #cancelOnAbort(request: Request, peer: RequestPeer): void {
    const onAbort = () => peer.close('client_abort')
    if (request.signal.aborted) {
      onAbort()
      return
    }
    request.signal.addEventListener('abort', onAbort, { once: true })
    peer.signal.addEventListener(
      'abort',
      () => request.signal.removeEventListener('abort', onAbort),
      { once: true },
    )
  }

  /** The response as one JSON body; related notifications cannot travel in it and are dropped. */
  async #jsonReply(
    request: Request,
    peer: RequestPeer,
    connection: ConnectionControl,
  ): Promise<Response> {
    // The response is the stream's last event: it ends the stream.
    let last: string | undefined
    for (;;) {
      const next = peer.take(peer.stream) ?? (await peer.wait(peer.stream))
      if (next === null) break
      if (typeof next === 'object') last = next.json
    }
    const answer = peer.answered ? last : undefined
    const reason = peer.closeReason
    peer.close('complete')
    if (answer === undefined) {
      if (request.signal.aborted) return clientGoneResponse()
      throw serviceUnavailable(`Service Unavailable: the request ended unanswered (${reason})`)
    }
    // A small answer goes as the string itself, with an init made once per status.
    // No shorter idle timeout for the connection: on keep-alive connections reused back to back it
    // cut healthy requests (ECONNRESET under the load tester).
    const status = statusOfAnswer(answer)
    if (fitsOneSlice(answer)) return new Response(answer, jsonResponseInit(status))
    // A large answer leaves paced and charged, cut at the send deadline if nobody takes it.
    const bytes = encoder.encode(answer)
    if (bytes.byteLength > FRAME_SLICE_BYTES) {
      const abandoned = () => this.options.metrics.repliesAbandoned.inc()
      return new Response(
        pacedBody(
          bytes,
          peer,
          { onDeadline: () => connection.drop(), abandoned },
          this.options.sendDeadlineMs,
        ),
        jsonResponseInit(status),
      )
    }
    // The body is bounded by the stream's byte bound before it is handed to Bun.
    return new Response(bytes, jsonResponseInit(status))
  }

  /**
   * An SSE answer that is complete before the response is built (a synchronous handler) goes as
   * one body: the same frames, without a generator, a reader or its timers. Within one frame
   * slice (64 KiB) only, like a small JSON answer; undefined otherwise, or while it is still to come.
   */
  #wholeSseReply(peer: RequestPeer, first: string): Response | undefined {
    const { stream } = peer
    if (!stream.ended || stream.closed) return undefined
    if (stream.heldBytes + stream.unsent * FRAME_OVERHEAD_BYTES + first.length > FRAME_SLICE_BYTES)
      return undefined
    const onFrame = frameLogger(this.options.logger, peer.sessionId)
    if (onFrame && first) onFrame(encoder.encode(first))
    let text = first
    for (let event = peer.take(stream); event; event = peer.take(stream)) {
      const frame = messageFrameText(event.json)
      onFrame?.(encoder.encode(frame))
      text += frame
    }
    // As when a stream's reader finishes it: answered and sent is complete, else abandoned.
    peer.detach(stream)
    // Within one frame slice, counted in bytes above: the string goes as it is.
    return new Response(text, SSE_RESPONSE_INIT)
  }

  #sseReply(
    peer: RequestPeer,
    connection: ConnectionControl,
    firstFrames: Uint8Array[],
  ): StreamReply {
    peer.attach(connection)
    const body = streamSession(peer, peer.stream, {
      firstFrames,
      encode: (event) => encodeMessageFrame(event.json),
      onFrame: frameLogger(this.options.logger, peer.sessionId),
    })
    return { headers: {}, body }
  }

  /** The HTTP answer to a refused request, with the request's id wherever it could be read. */
  reject(err: unknown, id: RequestId | null = null): Response {
    return rejectionResponse(err, this.options.metrics, (cause) => {
      const refused =
        cause instanceof ProtocolError
          ? new TransportError(
              statusOfError(cause.code),
              cause.code,
              cause.message,
              {},
              id,
              cause.data,
            )
          : toTransportError(cause)
      // Every error names the request it answers, wherever its id could be read.
      return refused.id === null && id !== null
        ? new TransportError(
            refused.status,
            refused.code,
            refused.message,
            refused.headers,
            id,
            refused.data,
          )
        : refused
    })
  }
}
