import type { Logger } from '../observability/log.ts'
import type { ServerMetrics } from '../observability/server-metrics.ts'
import type { Dispatcher } from '../protocol/dispatcher.ts'
import { isRequest } from '../protocol/jsonrpc.ts'
import { SessionRefusedError } from '../session/errors.ts'
import type { StreamEvent } from '../session/event-stream.ts'
import type { SessionRegistry } from '../session/registry.ts'
import { isWellFormedSessionId } from '../session/session-id.ts'
import { readJsonRpcBody } from './json-body.ts'
import { rejectionResponse } from './rejection.ts'
import { streamSession } from './session-stream.ts'
import { encodeMessageFrame, encodeSseEvent, frameLogger } from './sse-frame.ts'
import type { ConnectionControl } from './streamable-http.ts'
import {
  badRequest,
  sessionNotFound,
  sessionRefused,
  transportErrorResponse,
} from './transport-error.ts'

export interface LegacySseOptions {
  registry: SessionRegistry
  dispatcher: Dispatcher
  metrics: ServerMetrics
  logger: Logger
  maxBodyBytes: number
}

export interface OpenStreamOptions {
  /** Path the client must POST to; `?<sessionParam>=<id>` is appended. */
  postPath: string
  sessionParam: 'sessionId' | 'session_id'
  /** Direct tool-call flow: also send `data: Connected to session <id>` after the endpoint frame. */
  greet: boolean
  /**
   * The stream's connection, dropped when the server (not the client) ends the session while its
   * stream is open: its reader may have stopped reading.
   */
  connection: ConnectionControl
}

export interface PostOptions {
  /** Direct tool-call flow: a method that names a registered tool is a call of that tool. */
  directToolCalls: boolean
}

/** A legacy stream's events: `event: message` frames, without ids (nothing is resumed). */
const encodeEvent = (event: StreamEvent) => encodeMessageFrame(event.json)

/** The HTTP+SSE transport of MCP 2024-11-05: GET opens a session's stream, POST carries messages. */
export class LegacySseTransport {
  constructor(private readonly options: LegacySseOptions) {}

  /**
   * Opens a session owned by `owner`, bound to this request's stream. The returned generator
   * yields the endpoint frame first, before any await; the client's abort closes the session at
   * once. A refused session (limit, shutdown) is a 503 response instead.
   */
  open(
    owner: string,
    opts: OpenStreamOptions,
  ): AsyncGenerator<Uint8Array, void, undefined> | Response {
    let session: ReturnType<SessionRegistry['create']>
    try {
      session = this.options.registry.create({ endsWithStream: true, owner })
    } catch (err) {
      if (!(err instanceof SessionRefusedError)) throw err
      const refusal = sessionRefused(err)
      this.options.metrics.httpRejections.inc({ status: String(refusal.status) })
      return transportErrorResponse(refusal)
    }
    // The server ending the session (deadline, full queue, shutdown) cuts the connection.
    session.attach(session.standalone, opts.connection)
    const endpoint = `${opts.postPath}?${opts.sessionParam}=${session.id}`
    const frames = [encodeSseEvent({ event: 'endpoint', data: endpoint })]
    if (opts.greet) frames.push(encodeSseEvent({ data: `Connected to session ${session.id}` }))

    // The client leaving closes the session at once, even with the generator parked on it: Bun
    // calls its return(), which detaches the reader, and a legacy session ends with its stream.
    return streamSession(session, session.standalone, {
      firstFrames: frames,
      encode: encodeEvent,
      onFrame: frameLogger(this.options.logger, session.id),
    })
  }

  /** Takes one JSON-RPC message for a session: 202 at once, the answer travels on the stream. */
  async post(request: Request, url: URL, owner: string, opts: PostOptions): Promise<Response> {
    try {
      const id = url.searchParams.get('sessionId') ?? url.searchParams.get('session_id')
      if (id === null) throw badRequest('missing sessionId query parameter')
      if (!isWellFormedSessionId(id)) throw badRequest('malformed sessionId')
      const session = this.options.registry.get(id, owner)
      if (!session) throw sessionNotFound(id)
      const message = await readJsonRpcBody(request, this.options.maxBodyBytes)
      if (session.isClosed) throw sessionNotFound(id)
      if (isRequest(message)) this.options.registry.admitRequests(1)
      if (this.options.logger.enabled('debug'))
        this.options.logger.debug('message_in', { session: id, message })
      session.touch()
      this.options.dispatcher.dispatch(message, session, opts)
      return new Response('Accepted', { status: 202 })
    } catch (err) {
      return rejectionResponse(err, this.options.metrics)
    }
  }
}
