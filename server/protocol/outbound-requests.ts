import { Type } from '@sinclair/typebox'
import { TypeCompiler } from '@sinclair/typebox/compiler'
import type { Counter } from '../observability/metrics.ts'
import {
  CallEndedError,
  type InputChannel,
  type InputMethod,
  InputRequestError,
} from './context.ts'
import type { JsonRpcError, JsonRpcResult, RequestId } from './jsonrpc.ts'
import type { McpPeer } from './peer.ts'

export interface OutboundRequestsOptions {
  /** How long the client gets to answer one request. */
  timeoutMs: number
  /** Requests one session may have waiting; more are refused. */
  maxPerSession: number
  /** `sluice_input_requests_total{method,outcome}`. */
  requests: Counter
  /** Responses for ids that are unknown or already settled. */
  ignoredResponses: Counter
  limitRefusals: Counter
}

/** The outcomes an input request can end with; the `outcome` label. */
export type InputOutcome =
  | 'ok'
  | 'error'
  | 'invalid'
  | 'timeout'
  | 'cancelled'
  | 'session_closed'
  | 'undeliverable'

interface Pending {
  readonly method: InputMethod
  readonly relatedTo: RequestId
  resolve(result: Record<string, unknown>): void
  reject(err: Error): void
  timer: Timer
  signal: AbortSignal
  onAbort: () => void
}

interface SessionRequests {
  readonly pending: Map<RequestId, Pending>
  nextId: number
}

const Obj = Type.Record(Type.String(), Type.Unknown())
/** What each input method's result must look like; checked where the response enters. */
const RESULT_CHECKS = new Map<InputMethod, { Check(value: unknown): boolean }>([
  [
    'elicitation/create',
    TypeCompiler.Compile(
      Type.Object({
        action: Type.Union([
          Type.Literal('accept'),
          Type.Literal('decline'),
          Type.Literal('cancel'),
        ]),
        content: Type.Optional(Obj),
      }),
    ),
  ],
  [
    'sampling/createMessage',
    TypeCompiler.Compile(
      Type.Object({ role: Type.String(), content: Type.Unknown(), model: Type.String() }),
    ),
  ],
  [
    'roots/list',
    TypeCompiler.Compile(Type.Object({ roots: Type.Array(Type.Object({ uri: Type.String() })) })),
  ],
])

/**
 * Server-to-client requests of the 2025 revisions, all in one place: each has a timeout, is
 * bounded per session, is cancelled (with `notifications/cancelled` to the client) when `signal`
 * aborts (the call that asked was cancelled or ended), and is rejected when the session ends.
 * Each is released exactly once, whichever way it ends. It travels on the stream of the request
 * that asked (`relatedTo`).
 */
export class OutboundRequests implements InputChannel {
  readonly #sessions = new WeakMap<McpPeer, SessionRequests>()
  #pending = 0

  constructor(private readonly options: OutboundRequestsOptions) {}

  /** Requests waiting for a client's answer, over every session. */
  get pending(): number {
    return this.#pending
  }

  request(
    peer: McpPeer,
    relatedTo: RequestId,
    method: InputMethod,
    params: Record<string, unknown>,
    signal: AbortSignal,
  ): Promise<Record<string, unknown>> {
    if (signal.aborted) return Promise.reject(signal.reason)
    if (peer.isClosed) {
      return Promise.reject(
        new InputRequestError(`Input request: session ${peer.sessionId} is closed`),
      )
    }
    const session = this.#session(peer)
    if (session.pending.size >= this.options.maxPerSession) {
      this.options.limitRefusals.inc({ limit: 'input_requests_per_session' })
      return Promise.reject(
        new InputRequestError(
          `Too Many Requests: session ${peer.sessionId} has ${session.pending.size} input requests waiting, its limit`,
        ),
      )
    }
    const id = session.nextId++
    const { promise, resolve, reject } = Promise.withResolvers<Record<string, unknown>>()
    const pending: Pending = {
      method,
      relatedTo,
      resolve,
      reject,
      signal,
      timer: setTimeout(() => {
        this.#abandon(
          peer,
          session,
          id,
          'timeout',
          `the client did not answer ${method} within ${this.options.timeoutMs} ms`,
        )
      }, this.options.timeoutMs),
      onAbort: () => {
        const reason = peer.isClosed ? 'session_closed' : 'cancelled'
        const ended = signal.reason instanceof CallEndedError
        this.#abandon(
          peer,
          session,
          id,
          reason,
          `the request that asked for ${method} ${ended ? 'ended' : 'was cancelled'}`,
          signal.reason,
        )
      },
    }
    pending.timer.unref()
    signal.addEventListener('abort', pending.onAbort, { once: true })
    session.pending.set(id, pending)
    this.#pending++
    const sent = peer.send({ jsonrpc: '2.0', id, method, params }, relatedTo)
    // Not queued: nothing will answer, so fail now. (A full queue closes the session, whose
    // close path may have released this request already.)
    if (!sent && session.pending.get(id) === pending) {
      this.#release(session, id, pending)
      this.#count(method, 'undeliverable')
      reject(
        new InputRequestError(
          `Input request: ${method} could not be sent to session ${peer.sessionId}`,
        ),
      )
    }
    return promise
  }

  /** A response from the client; ignored (and counted) when its id is unknown or already settled. */
  settle(peer: McpPeer, response: JsonRpcResult | JsonRpcError): void {
    const session = this.#sessions.get(peer)
    const id = response.id
    const pending = id === null ? undefined : session?.pending.get(id)
    if (!session || !pending || id === null) {
      this.options.ignoredResponses.inc()
      return
    }
    this.#release(session, id, pending)
    if ('error' in response) {
      this.#count(pending.method, 'error')
      pending.reject(
        new InputRequestError(
          `Input request: the client refused ${pending.method}: ${response.error.message}`,
        ),
      )
    } else if (!RESULT_CHECKS.get(pending.method)?.Check(response.result)) {
      this.#count(pending.method, 'invalid')
      pending.reject(
        new InputRequestError(`Input request: the client's ${pending.method} result is malformed`),
      )
    } else {
      this.#count(pending.method, 'ok')
      pending.resolve(response.result)
    }
  }

  #session(peer: McpPeer): SessionRequests {
    let session = this.#sessions.get(peer)
    if (!session) {
      const created: SessionRequests = { pending: new Map(), nextId: 1 }
      session = created
      this.#sessions.set(peer, created)
      // The session's one close path rejects whatever is still waiting.
      peer.signal.addEventListener(
        'abort',
        () => {
          for (const id of [...created.pending.keys()]) {
            this.#abandon(peer, created, id, 'session_closed', `session ${peer.sessionId} closed`)
          }
        },
        { once: true },
      )
    }
    return session
  }

  /** Ends a request the client did not answer; tells the client unless the session is gone. */
  #abandon(
    peer: McpPeer,
    session: SessionRequests,
    id: RequestId,
    outcome: InputOutcome,
    why: string,
    cause?: unknown,
  ): void {
    const pending = session.pending.get(id)
    if (!pending) return
    this.#release(session, id, pending)
    this.#count(pending.method, outcome)
    if (!peer.isClosed) {
      peer.send(
        {
          jsonrpc: '2.0',
          method: 'notifications/cancelled',
          params: { requestId: id, reason: why },
        },
        pending.relatedTo,
      )
    }
    pending.reject(cause instanceof Error ? cause : new InputRequestError(`Input request: ${why}`))
  }

  /** The one place a pending request is let go: its timer, its listener, its slot. */
  #release(session: SessionRequests, id: RequestId, pending: Pending): void {
    session.pending.delete(id)
    clearTimeout(pending.timer)
    pending.signal.removeEventListener('abort', pending.onAbort)
    this.#pending--
  }

  #count(method: InputMethod, outcome: InputOutcome): void {
    this.options.requests.inc({ method, outcome })
  }
}
