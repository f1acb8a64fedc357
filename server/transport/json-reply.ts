import type { ServerMetrics } from '../observability/server-metrics.ts'
import type { RequestId } from '../protocol/jsonrpc.ts'
import type { EventStream } from '../session/event-stream.ts'
import type { SessionRegistry } from '../session/registry.ts'
import type { Session } from '../session/session.ts'
import { pacedBody } from './paced-body.ts'
import { FRAME_SLICE_BYTES, fitsOneSlice } from './session-stream.ts'
import type { ConnectionControl } from './streamable-http.ts'
import { sessionNotFound } from './transport-error.ts'

/**
 * JSON-RPC code of the answer a JSON reply must carry for a request that was cancelled: HTTP needs
 * a body, the canceller ignores it (as LSP's RequestCancelled).
 */
export const REQUEST_CANCELLED = -32800

export interface JsonReplyOptions {
  registry: SessionRegistry
  metrics: ServerMetrics
  sendDeadlineMs: number
}

export interface JsonReplyRequest {
  request: Request
  session: Session
  stream: EventStream
  requestIds: readonly RequestId[]
  batch: boolean
  headers: Record<string, string>
  connection: ConnectionControl
}

/** The extra headers of a reply that has none (most): the reply's own headers are then shared. */
export const NO_HEADERS: Readonly<Record<string, string>> = Object.freeze({})

const encoder = new TextEncoder()
const JSON_HEADERS: Readonly<Record<string, string>> = { 'content-type': 'application/json' }

/**
 * The init of a JSON response with only the content type, by status: made once each, its headers
 * a `Headers`, which Bun copies into a response faster than it reads a plain object.
 */
const JSON_INITS = new Map<number, ResponseInit>()
export function jsonResponseInit(status: number): ResponseInit {
  let init = JSON_INITS.get(status)
  if (!init) {
    init = { status, headers: new Headers(JSON_HEADERS) }
    JSON_INITS.set(status, init)
  }
  return init
}
const JSON_RESPONSE_INIT = jsonResponseInit(200)

/**
 * Waits for every response on the stream (the call runs on even if the client leaves) and
 * answers them as one body: responses only; what a handler sends meanwhile (log, progress, an input
 * request) the session sends to the standalone stream instead. A reply nobody takes is cut at the send
 * deadline and counted; a large one is held against the buffer budget until its reader took it.
 */
export function answerAsJson(
  reply: JsonReplyRequest,
  options: JsonReplyOptions,
): Response | Promise<Response> {
  const { session, stream } = reply
  if (!stream.ended) return waitAndAnswer(reply, options)
  // Answers already there (synchronous handlers) are taken at once: no wait, no listener.
  let answers: string[]
  try {
    answers = takeAnswers(session, stream)
  } finally {
    session.releaseStream(stream)
  }
  return jsonReply(reply, answers, undefined, options)
}

async function waitAndAnswer(
  reply: JsonReplyRequest,
  options: JsonReplyOptions,
): Promise<Response> {
  const { session, stream } = reply
  const watch = new ClientWatch(session, stream)
  let answers: string[]
  try {
    answers = await waitForAnswers(reply, watch)
  } finally {
    session.releaseStream(stream)
  }
  return jsonReply(reply, answers, watch, options)
}

/** The reply's body, once its answers are all there; `watch` when it waited for them. */
function jsonReply(
  reply: JsonReplyRequest,
  answers: string[],
  watch: ClientWatch | undefined,
  options: JsonReplyOptions,
): Response {
  const { session, requestIds, batch, headers, connection } = reply
  if (session.isClosed) throw sessionNotFound(session.id)
  const text = replyText(answers, requestIds, batch)
  const init =
    headers === NO_HEADERS ? JSON_RESPONSE_INIT : { headers: { ...headers, ...JSON_HEADERS } }
  if (fitsOneSlice(text)) {
    return smallReply(text, init, watch, () => Buffer.byteLength(text), options)
  }
  const bytes = encoder.encode(text)
  const abandoned = () => {
    options.metrics.repliesAbandoned.inc()
    options.registry.freed(bytes.byteLength)
  }
  if (bytes.byteLength > FRAME_SLICE_BYTES) {
    // The paced body counts its own end, however the client leaves.
    watch?.handedOver(undefined)
    return new Response(
      pacedBody(
        bytes,
        session,
        { onDeadline: () => connection.drop(), abandoned },
        options.sendDeadlineMs,
      ),
      init,
    )
  }
  return smallReply(bytes, init, watch, () => bytes.byteLength, options)
}

/**
 * A small body goes whole: at most 64 KiB a connection, most of it in the kernel's socket
 * buffers. (Shortening the connection's idle timeout to the send deadline cut healthy keep-alive
 * requests, so Bun's own idle timeout ends a connection nobody reads.)
 * A reply that waited for its call keeps the listener it waited with: the client left during the
 * call, or leaves while Bun still writes the body (Bun aborts the request's signal then). A reply
 * answered at once is handed to the socket in the turn its request arrived, and costs no
 * listener: the client could not leave before, and Bun holds what the socket did not take.
 */
function smallReply(
  body: string | Uint8Array,
  init: ResponseInit,
  watch: ClientWatch | undefined,
  byteLength: () => number,
  options: JsonReplyOptions,
): Response {
  if (watch) {
    const abandoned = () => {
      options.metrics.repliesAbandoned.inc()
      options.registry.freed(byteLength())
    }
    if (watch.left) abandoned()
    else watch.handedOver(abandoned)
  }
  return new Response(body, init)
}

/**
 * The one abort listener of a reply that waits for its calls (an object, not a closure: Bun calls
 * its `handleEvent`). While the calls run, the client leaving means nobody reads this reply (a drain
 * need not wait for it); once the body is handed to Bun, it means the body was not taken whole.
 */
class ClientWatch {
  /** The client left before the body was handed over. */
  left = false
  #afterHandover: (() => void) | undefined
  #handedOver = false

  constructor(
    private readonly session: Session,
    private readonly stream: EventStream,
  ) {}

  /** From now on, the client leaving calls `abandoned` (undefined: nothing to do). */
  handedOver(abandoned: (() => void) | undefined): void {
    this.#handedOver = true
    this.#afterHandover = abandoned
  }

  handleEvent(): void {
    if (this.#handedOver) {
      this.#afterHandover?.()
      return
    }
    this.left = true
    this.session.setJsonReader(this.stream, false)
  }
}

/** The responses on the stream, as sent (JSON text), once they are all there. */
function takeAnswers(session: Session, stream: EventStream): string[] {
  const answers: string[] = []
  for (let event = session.take(stream); event; event = session.take(stream)) {
    answers.push(event.json)
  }
  return answers
}

/**
 * Waits for every response on the stream; the call runs on even if the client leaves. The watch
 * stays on the request's signal (a signal aborts once, and is dropped with its request).
 */
async function waitForAnswers(reply: JsonReplyRequest, watch: ClientWatch): Promise<string[]> {
  const { request, session, stream } = reply
  const answers: string[] = []
  // While the client is there, a drain waits for these calls; once it left, nobody can be answered.
  if (request.signal.aborted) watch.handleEvent()
  else {
    session.setJsonReader(stream, true)
    request.signal.addEventListener('abort', watch)
  }
  try {
    for (;;) {
      const next = session.take(stream) ?? (await session.wait(stream))
      if (next === null) break
      if (typeof next === 'object') answers.push(next.json)
    }
  } finally {
    session.setJsonReader(stream, false)
  }
  return answers
}

/**
 * The body: one response as it was serialized, or a batch's in the order of its requests. Only
 * responses reach a JSON reply's stream (the session sends the rest elsewhere); a request that has
 * none was cancelled.
 */
function replyText(answers: string[], requestIds: readonly RequestId[], batch: boolean): string {
  const only = answers[0]
  if (!batch && answers.length === 1 && only !== undefined) return only
  const byId = new Map<RequestId, unknown>()
  for (const json of answers) {
    const message = JSON.parse(json) as { id?: RequestId }
    if (message.id !== undefined) byId.set(message.id, message)
  }
  const ordered = requestIds.map((id) => byId.get(id) ?? cancelled(id))
  return JSON.stringify(batch ? ordered : ordered[0])
}

function cancelled(id: RequestId) {
  return {
    jsonrpc: '2.0',
    id,
    error: {
      code: REQUEST_CANCELLED,
      message: `Request cancelled: request ${JSON.stringify(id)} has no result`,
    },
  }
}
