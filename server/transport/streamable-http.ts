import type { Logger } from '../observability/log.ts'
import type { ServerMetrics } from '../observability/server-metrics.ts'
import type { Dispatcher } from '../protocol/dispatcher.ts'
import { invalidRequest, ProtocolError } from '../protocol/errors.ts'
import {
  isRequest,
  type JsonRpcMessage,
  type JsonRpcRequest,
  parseJson,
  type RequestId,
  toJsonRpcMessage,
} from '../protocol/jsonrpc.ts'
import { isSupportedVersion } from '../protocol/versions.ts'
import type { EventStream, StreamEvent } from '../session/event-stream.ts'
import type { SessionRegistry } from '../session/registry.ts'
import type { Session } from '../session/session.ts'
import { isWellFormedSessionId } from '../session/session-id.ts'
import { acceptOf, notAcceptable } from './accept.ts'
import { readBodyText } from './json-body.ts'
import { answerAsJson, NO_HEADERS } from './json-reply.ts'
import { rejectionResponse } from './rejection.ts'
import { FRAME_SLICE_BYTES, streamSession } from './session-stream.ts'
import {
  encodeSseEvent,
  frameLogger,
  messageFrameText,
  OPEN_COMMENT_FRAME,
  OPEN_COMMENT_TEXT,
  SSE_HEADERS,
  SSE_RESPONSE_INIT,
  sseEventText,
} from './sse-frame.ts'
import {
  badRequest,
  sessionNotFound,
  TRANSPORT_ERROR_CODE,
  TransportError,
} from './transport-error.ts'

export interface StreamableHttpOptions {
  registry: SessionRegistry
  dispatcher: Dispatcher
  metrics: ServerMetrics
  logger: Logger
  maxBodyBytes: number
  /** Requests one batch may carry: their responses must fit one stream's queue. */
  maxBatchRequests: number
  /** How long a reply may wait for its reader to take it, in ms. */
  sendDeadlineMs: number
  /** Answer with application/json when the client accepts both JSON and SSE. */
  preferJson: boolean
  /** The `retry:` the priming event suggests, in ms. */
  retryMs: number
}

/** What the transport may ask of the connection a request came on (the HTTP layer's). */
export interface ConnectionControl {
  /** Cut the connection soon: its stream was evicted and its reader may be stalled. */
  drop(): void
}

/** An SSE answer: the HTTP layer sets the headers and streams the body. */
export interface SseReply {
  headers: Record<string, string>
  body: AsyncGenerator<Uint8Array, void, undefined>
  session: Session
}

/** Which response types a POST's client accepts. */
type Accepted = ReturnType<typeof acceptOf>

/** Sessions that send no MCP-Protocol-Version are 2025-03-26 clients (the spec's default). */
const DEFAULT_HEADER_VERSION = '2025-03-26'
const EVENT_ID = /^(\d+)_(\d+)$/
/** Room for an event's `event:` and `id:` lines around its JSON. */
const FRAME_OVERHEAD_BYTES = 64
const encoder = new TextEncoder()

/** An event of a resumable stream: `event: message` with its id, `<stream>_<seq>`. */
const encodeStreamEvent = (event: StreamEvent, stream: EventStream): Uint8Array =>
  encodeSseEvent({ event: 'message', id: `${stream.number}_${event.seq}`, data: event.json })

/** Streamable HTTP (MCP 2025-03-26 to 2025-11-25) on one endpoint: POST, GET and DELETE. */
export class StreamableHttpTransport {
  constructor(private readonly options: StreamableHttpOptions) {}

  /**
   * POST: one message or a batch. Requests are answered as JSON or as an SSE stream. A POST whose
   * body was read already and whose answers are there at once is answered without an await.
   */
  post(
    request: Request,
    owner: string,
    connection: ConnectionControl,
    /** The body, when the era router has read it already. */
    bodyText?: string,
  ): Response | SseReply | Promise<Response | SseReply> {
    let accepts: Accepted
    try {
      accepts = acceptOf(request)
      if (!accepts.json && !accepts.sse)
        throw notAcceptable('application/json or text/event-stream')
    } catch (err) {
      return this.#reject(err)
    }
    if (bodyText !== undefined) return this.#answer(request, owner, connection, accepts, bodyText)
    return readBodyText(request, this.options.maxBodyBytes).then(
      (text) => this.#answer(request, owner, connection, accepts, text),
      (err: unknown) => this.#reject(err),
    )
  }

  #answer(
    request: Request,
    owner: string,
    connection: ConnectionControl,
    accepts: Accepted,
    bodyText: string,
  ): Response | SseReply | Promise<Response | SseReply> {
    try {
      const { messages, batch } = this.#parseMessages(bodyText)
      const first = messages[0]
      const initialize = !batch && first && isRequest(first) && first.method === 'initialize'
      // A bad initialize is answered before a session exists, so it holds no slot.
      if (initialize) this.#checkInitialize(first)
      const session = initialize
        ? this.#createSession(request, owner)
        : this.#findSession(request, owner)
      if (batch && session.state.protocolVersion !== '2025-03-26') {
        throw TransportError.fromProtocol(
          invalidRequest('JSON-RPC batches are accepted only from 2025-03-26 clients'),
        )
      }
      const requests = messages.filter(isRequest)
      this.#checkRequestIds(session, requests)
      if (requests.length > 0) this.options.registry.admitRequests(requests.length)
      session.touch()
      this.#logIn(session, messages)
      if (requests.length === 0) {
        for (const m of messages) this.options.dispatcher.dispatch(m, session)
        return new Response(null, { status: 202 })
      }
      const headers = initialize ? { 'mcp-session-id': session.id } : NO_HEADERS
      const json = accepts.json && (this.options.preferJson || !accepts.sse)
      const requestIds = requests.map((r) => r.id)
      const stream = session.openResponseStream(requestIds, !json)
      for (const m of messages) this.options.dispatcher.dispatch(m, session)
      if (initialize && session.state.protocolVersion) this.options.registry.initialized(session)
      if (json) {
        const answer = answerAsJson(
          { request, session, stream, requestIds, batch, headers, connection },
          this.options,
        )
        return answer instanceof Response ? answer : answer.catch((err) => this.#reject(err))
      }
      return (
        this.#wholeReply(session, stream, headers) ??
        this.#sseReply(session, stream, headers, true, connection)
      )
    } catch (err) {
      return this.#reject(err)
    }
  }

  /** GET: the session's standalone stream, or with Last-Event-ID the resumption of a stream. */
  get(request: Request, owner: string, connection: ConnectionControl): Response | SseReply {
    try {
      if (!acceptOf(request).sse) throw notAcceptable('text/event-stream')
      const session = this.#findSession(request, owner)
      const lastEventId = request.headers.get('last-event-id')
      if (lastEventId === null) {
        if (session.isAttached(session.standalone)) {
          throw new TransportError(
            409,
            TRANSPORT_ERROR_CODE,
            `Conflict: session ${session.id} already has a standalone stream`,
          )
        }
        return this.#sseReply(session, session.standalone, {}, true, connection)
      }
      const match = EVENT_ID.exec(lastEventId)
      const stream = match ? session.stream(Number(match[1])) : undefined
      // A reply being answered as one JSON body belongs to its POST: no one else may take it.
      if (!match || !stream?.resumable) {
        throw new TransportError(
          404,
          TRANSPORT_ERROR_CODE,
          `Not Found: event ${lastEventId} names no stream of session ${session.id} that can be resumed`,
        )
      }
      if (session.isAttached(stream)) {
        throw new TransportError(
          409,
          TRANSPORT_ERROR_CODE,
          `Conflict: stream ${stream.number} is already being read`,
        )
      }
      if (!stream.rewind(Number(match[2])))
        throw badRequest(`Last-Event-ID ${lastEventId} is past the end of its stream`)
      return this.#sseReply(session, stream, {}, false, connection)
    } catch (err) {
      return this.#reject(err)
    }
  }

  /** DELETE: ends the session; its id then gets 404. */
  delete(request: Request, owner: string): Response {
    try {
      const session = this.#findSession(request, owner)
      session.close('client_delete')
      return new Response(null, { status: 200 })
    } catch (err) {
      return this.#reject(err)
    }
  }

  #parseMessages(text: string): { messages: JsonRpcMessage[]; batch: boolean } {
    const value = parseJson(text)
    if (!Array.isArray(value)) return { messages: [toJsonRpcMessage(value)], batch: false }
    if (value.length === 0) throw TransportError.fromProtocol(invalidRequest('an empty batch'))
    return { messages: value.map(toJsonRpcMessage), batch: true }
  }

  #checkInitialize(request: JsonRpcRequest): void {
    try {
      this.options.dispatcher.checkInitialize(request)
    } catch (err) {
      if (err instanceof ProtocolError) throw TransportError.fromProtocol(err, request.id)
      throw err
    }
  }

  /**
   * Refuses, before anything is queued, a request whose id repeats within the POST or is still
   * in flight in the session: two answers with one id cannot be told apart, and a stream waiting
   * for both would never end. The refusal carries no id, so it cannot settle the first request.
   */
  #checkRequestIds(session: Session, requests: readonly JsonRpcRequest[]): void {
    if (requests.length > this.options.maxBatchRequests) {
      this.options.metrics.limitRefusals.inc({ limit: 'batch_size' })
      throw TransportError.fromProtocol(
        invalidRequest(
          `a batch of ${requests.length} requests exceeds this server's limit of ${this.options.maxBatchRequests}; send smaller batches`,
        ),
      )
    }
    // One request (the usual POST) cannot repeat itself: no set for it.
    const seen = requests.length > 1 ? new Set<RequestId>() : undefined
    for (const { id } of requests) {
      if (seen?.has(id)) {
        throw TransportError.fromProtocol(
          invalidRequest(`request id ${JSON.stringify(id)} appears more than once in the batch`),
        )
      }
      seen?.add(id)
      if (session.isRouted(id) || session.calls.has(id)) {
        throw TransportError.fromProtocol(
          invalidRequest(
            `request id ${JSON.stringify(id)} is already in flight in session ${session.id}`,
          ),
        )
      }
    }
  }

  #createSession(request: Request, owner: string): Session {
    if (request.headers.has('mcp-session-id')) {
      throw badRequest('initialize must not carry Mcp-Session-Id; it creates the session')
    }
    return this.options.registry.create({ endsWithStream: false, owner })
  }

  #findSession(request: Request, owner: string): Session {
    const id = request.headers.get('mcp-session-id')
    if (id === null) throw badRequest('Mcp-Session-Id header is required after initialize')
    // Only well-formed ids are given out: a session found needs no pattern test, a miss gets one.
    const session = this.options.registry.get(id, owner)
    if (!session || session.isClosed) {
      if (!isWellFormedSessionId(id)) throw badRequest('malformed Mcp-Session-Id')
      throw sessionNotFound(id)
    }
    const version = request.headers.get('mcp-protocol-version') ?? DEFAULT_HEADER_VERSION
    // The version the session agreed on is one sluice speaks: no list to search.
    if (version !== session.state.protocolVersion && !isSupportedVersion(version)) {
      throw badRequest(`unsupported MCP-Protocol-Version ${version}`)
    }
    return session
  }

  /**
   * An SSE reply whose answers are all on the stream already (synchronous handlers) goes as one
   * body: the same frames as the stream would send, without a generator, a reader, its timers or
   * abort listeners. Like a small JSON reply it goes whole, so only a reply within one frame slice
   * (64 KiB) takes this path; the events move to the replay window as if sent, for Last-Event-ID.
   * Undefined when an answer is still to come, or the reply is larger.
   */
  #wholeReply(
    session: Session,
    stream: EventStream,
    headers: Record<string, string>,
  ): Response | undefined {
    if (!stream.ended || stream.closed) return undefined
    const priming = this.#primingText(session, stream)
    if (
      stream.heldBytes + stream.unsent * FRAME_OVERHEAD_BYTES + priming.length >
      FRAME_SLICE_BYTES
    )
      return undefined
    const onFrame = frameLogger(this.options.logger, session.id)
    onFrame?.(encoder.encode(priming))
    let text = priming
    for (let event = session.take(stream); event; event = session.take(stream)) {
      const frame = messageFrameText(event.json, `${stream.number}_${event.seq}`)
      session.frameHandedOver(stream, 'message')
      onFrame?.(encoder.encode(frame))
      text += frame
    }
    // The text itself is the body: Bun encodes it as it writes, with no Uint8Array of ours.
    return new Response(
      text,
      headers === NO_HEADERS ? SSE_RESPONSE_INIT : { headers: { ...SSE_HEADERS, ...headers } },
    )
  }

  /**
   * A fresh stream's first frame: a priming event (2025-11-25 on), else a comment. Its id names
   * the position before the first event not yet sent, so a reconnect from it gets every event.
   */
  #primingText(session: Session, stream: EventStream): string {
    return (session.state.protocolVersion ?? '') >= '2025-11-25'
      ? sseEventText({
          id: `${stream.number}_${stream.lastSeq - stream.unsent}`,
          data: '',
          retryMs: this.options.retryMs,
        })
      : OPEN_COMMENT_TEXT
  }

  #sseReply(
    session: Session,
    stream: EventStream,
    headers: Record<string, string>,
    fresh: boolean,
    connection: ConnectionControl,
  ): SseReply {
    // The server ending the stream (deadline, the session's close) drops a connection that may be
    // stalled inside a write.
    session.attach(stream, connection)
    // Leaving a stream is not a cancellation: the generator's return() (Bun calls it when the client
    // leaves) detaches the reader, and the stream's events wait for replay.
    const priming = fresh ? encoder.encode(this.#primingText(session, stream)) : OPEN_COMMENT_FRAME
    const body = streamSession(session, stream, {
      firstFrames: [priming],
      encode: encodeStreamEvent,
      onFrame: frameLogger(this.options.logger, session.id),
    })
    return { headers, body, session }
  }

  #logIn(session: Session, messages: JsonRpcMessage[]): void {
    if (!this.options.logger.enabled('debug')) return
    for (const message of messages)
      this.options.logger.debug('message_in', { session: session.id, message })
  }

  #reject(err: unknown): Response {
    return rejectionResponse(err, this.options.metrics)
  }
}
