import type { Logger } from '../observability/log.ts'
import type { ServerMetrics } from '../observability/server-metrics.ts'
import type { Dispatcher } from '../protocol/dispatcher.ts'
import { invalidRequest } from '../protocol/errors.ts'
import {
  isRequest,
  type JsonRpcMessage,
  type JsonRpcRequest,
  parseJson,
  toJsonRpcMessage,
} from '../protocol/jsonrpc.ts'
import { isSupportedVersion } from '../protocol/versions.ts'
import { SessionRefusedError } from '../session/errors.ts'
import type { EventStream } from '../session/event-stream.ts'
import type { SessionRegistry } from '../session/registry.ts'
import type { Session } from '../session/session.ts'
import { isWellFormedSessionId } from '../session/session-id.ts'
import { readBodyText } from './json-body.ts'
import type { OriginGuard } from './origin-guard.ts'
import { streamSession } from './session-stream.ts'
import { encodeSseEvent, frameLogger } from './sse-frame.ts'
import {
  badRequest,
  serviceUnavailable,
  sessionNotFound,
  TRANSPORT_ERROR_CODE,
  TransportError,
  toTransportError,
  transportErrorResponse,
} from './transport-error.ts'

export interface StreamableHttpOptions {
  registry: SessionRegistry
  dispatcher: Dispatcher
  metrics: ServerMetrics
  logger: Logger
  guard: OriginGuard
  maxBodyBytes: number
  /** Answer with application/json when the client accepts both JSON and SSE. */
  preferJson: boolean
  /** The `retry:` the priming event suggests, in ms. */
  retryMs: number
}

/** An SSE answer: the HTTP layer sets the headers and streams the body. */
export interface SseReply {
  headers: Record<string, string>
  body: AsyncGenerator<Uint8Array, void, undefined>
  session: Session
}

/** Sessions that send no MCP-Protocol-Version are 2025-03-26 clients (the spec's default). */
const DEFAULT_HEADER_VERSION = '2025-03-26'
const EVENT_ID = /^(\d+)_(\d+)$/
const encoder = new TextEncoder()
const OPEN_COMMENT = encoder.encode(': stream open\n\n')

/** Streamable HTTP (MCP 2025-03-26 to 2025-11-25) on one endpoint: POST, GET and DELETE. */
export class StreamableHttpTransport {
  constructor(private readonly options: StreamableHttpOptions) {}

  /** POST: one message or a batch. Requests are answered as JSON or as an SSE stream. */
  async post(
    request: Request,
    owner: string,
    onServerClose: () => void,
  ): Promise<Response | SseReply> {
    try {
      this.options.guard.check(request)
      const accepts = acceptOf(request)
      if (!accepts.json && !accepts.sse)
        throw notAcceptable('application/json or text/event-stream')
      const messages = await this.#readMessages(request)
      const first = messages[0]
      const initialize =
        messages.length === 1 && first && isRequest(first) && first.method === 'initialize'
      const session = initialize
        ? this.#createSession(request, owner)
        : this.#findSession(request, owner)
      if (messages.length > 1 && session.state.protocolVersion !== '2025-03-26') {
        throw TransportError.fromProtocol(
          invalidRequest('JSON-RPC batches are accepted only from 2025-03-26 clients'),
        )
      }
      const requests = messages.filter(isRequest)
      if (requests.length > 0 && this.options.registry.draining) {
        this.options.metrics.limitRefusals.inc({ limit: 'draining' })
        throw serviceUnavailable('Service Unavailable: sluice is shutting down; no new requests')
      }
      session.touch()
      this.#logIn(session, messages)
      if (requests.length === 0) {
        for (const m of messages) this.options.dispatcher.dispatch(m, session)
        return new Response(null, { status: 202 })
      }
      const busy = requests.find((r) => session.isRouted(r.id))
      if (busy) {
        throw TransportError.fromProtocol(
          invalidRequest(
            `request id ${JSON.stringify(busy.id)} is already in flight in session ${session.id}`,
          ),
        )
      }
      const stream = session.openResponseStream(requests.map((r) => r.id))
      for (const m of messages) this.options.dispatcher.dispatch(m, session)
      const headers: Record<string, string> = initialize ? { 'mcp-session-id': session.id } : {}
      const json = accepts.json && (this.options.preferJson || !accepts.sse)
      if (json)
        return await this.#jsonReply(session, stream, requests, messages.length > 1, headers)
      return this.#sseReply(request, session, stream, headers, true, onServerClose)
    } catch (err) {
      return this.#reject(err)
    }
  }

  /** GET: the session's standalone stream, or with Last-Event-ID the resumption of a stream. */
  get(request: Request, owner: string, onServerClose: () => void): Response | SseReply {
    try {
      this.options.guard.check(request)
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
        return this.#sseReply(request, session, session.standalone, {}, true, onServerClose)
      }
      const match = EVENT_ID.exec(lastEventId)
      const stream = match ? session.stream(Number(match[1])) : undefined
      if (!match || !stream) {
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
      return this.#sseReply(request, session, stream, {}, false, onServerClose)
    } catch (err) {
      return this.#reject(err)
    }
  }

  /** DELETE: ends the session; its id then gets 404. */
  delete(request: Request, owner: string): Response {
    try {
      this.options.guard.check(request)
      const session = this.#findSession(request, owner)
      session.close('client_delete')
      return new Response(null, { status: 200 })
    } catch (err) {
      return this.#reject(err)
    }
  }

  async #readMessages(request: Request): Promise<JsonRpcMessage[]> {
    const value = parseJson(await readBodyText(request, this.options.maxBodyBytes))
    if (!Array.isArray(value)) return [toJsonRpcMessage(value)]
    if (value.length === 0) throw TransportError.fromProtocol(invalidRequest('an empty batch'))
    return value.map(toJsonRpcMessage)
  }

  #createSession(request: Request, owner: string): Session {
    if (request.headers.has('mcp-session-id')) {
      throw badRequest('initialize must not carry Mcp-Session-Id; it creates the session')
    }
    try {
      return this.options.registry.create({ endsWithStream: false, owner })
    } catch (err) {
      if (!(err instanceof SessionRefusedError)) throw err
      this.options.metrics.limitRefusals.inc({ limit: err.reason })
      throw serviceUnavailable(err.message)
    }
  }

  #findSession(request: Request, owner: string): Session {
    const id = request.headers.get('mcp-session-id')
    if (id === null) throw badRequest('Mcp-Session-Id header is required after initialize')
    if (!isWellFormedSessionId(id)) throw badRequest('malformed Mcp-Session-Id')
    const session = this.options.registry.get(id, owner)
    if (!session || session.isClosed) throw sessionNotFound(id)
    const version = request.headers.get('mcp-protocol-version') ?? DEFAULT_HEADER_VERSION
    if (!isSupportedVersion(version)) {
      throw badRequest(`unsupported MCP-Protocol-Version ${version}`)
    }
    return session
  }

  /** Waits for every response on the stream (the call runs on even if the client leaves). */
  async #jsonReply(
    session: Session,
    stream: EventStream,
    requests: JsonRpcRequest[],
    batch: boolean,
    headers: Record<string, string>,
  ): Promise<Response> {
    const answers: unknown[] = []
    for (;;) {
      const next = session.take(stream) ?? (await session.wait(stream))
      if (next === null) break
      if (typeof next === 'object') answers.push(JSON.parse(next.json))
    }
    if (answers.length < requests.length) throw sessionNotFound(session.id)
    return Response.json(batch ? answers : answers[0], { headers })
  }

  #sseReply(
    request: Request,
    session: Session,
    stream: EventStream,
    headers: Record<string, string>,
    fresh: boolean,
    onServerClose: () => void,
  ): SseReply {
    session.attach(stream)
    // Leaving a stream is not a cancellation: the reader detaches and its events wait for replay.
    const onAbort = () => session.detach(stream)
    if (request.signal.aborted) onAbort()
    else request.signal.addEventListener('abort', onAbort, { once: true })
    // The server ending the session (deadline, shutdown) drops a connection that may be stalled.
    session.signal.addEventListener('abort', onServerClose, { once: true })
    const priming =
      fresh && (session.state.protocolVersion ?? '') >= '2025-11-25'
        ? encodeSseEvent({
            id: `${stream.number}_${stream.lastSeq}`,
            data: '',
            retryMs: this.options.retryMs,
          })
        : OPEN_COMMENT
    const body = streamSession(session, stream, {
      firstFrames: [priming],
      encode: (event) =>
        encodeSseEvent({ event: 'message', id: `${stream.number}_${event.seq}`, data: event.json }),
      onFrame: frameLogger(this.options.logger, session.id),
      onEnd: () => {
        request.signal.removeEventListener('abort', onAbort)
        session.signal.removeEventListener('abort', onServerClose)
      },
    })
    return { headers, body, session }
  }

  #logIn(session: Session, messages: JsonRpcMessage[]): void {
    if (!this.options.logger.enabled('debug')) return
    for (const message of messages)
      this.options.logger.debug('message_in', { session: session.id, message })
  }

  #reject(err: unknown): Response {
    const error = toTransportError(err)
    this.options.metrics.httpRejections.inc({ status: String(error.status) })
    if (error.status === 413) this.options.metrics.limitRefusals.inc({ limit: 'body_bytes' })
    return transportErrorResponse(error)
  }
}

function notAcceptable(what: string): TransportError {
  return new TransportError(
    406,
    TRANSPORT_ERROR_CODE,
    `Not Acceptable: the client must accept ${what}`,
  )
}

/** Which response types the client's Accept header allows. */
function acceptOf(request: Request): { json: boolean; sse: boolean } {
  const accept = (request.headers.get('accept') ?? '').toLowerCase()
  const any = accept.includes('*/*')
  return {
    json: any || accept.includes('application/json') || accept.includes('application/*'),
    sse: any || accept.includes('text/event-stream') || accept.includes('text/*'),
  }
}
