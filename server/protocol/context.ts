import { checkElicitedContent } from './elicitation-check.ts'
import type { RequestId } from './jsonrpc.ts'
import type { McpPeer } from './peer.ts'

/** MCP `LoggingLevel`, lowest first. */
export const LOGGING_LEVELS = [
  'debug',
  'info',
  'notice',
  'warning',
  'error',
  'critical',
  'alert',
  'emergency',
] as const
export type LoggingLevel = (typeof LOGGING_LEVELS)[number]
const LEVEL_RANK = new Map<string, number>(LOGGING_LEVELS.map((l, i) => [l, i]))
/** What a session gets before it sends logging/setLevel. */
export const DEFAULT_LOGGING_LEVEL: LoggingLevel = 'info'

export function isLoggingLevel(value: unknown): value is LoggingLevel {
  return typeof value === 'string' && LEVEL_RANK.has(value)
}

/** The server-to-client requests a handler can make, and the client capability each needs. */
export const INPUT_METHODS = {
  'elicitation/create': 'elicitation',
  'sampling/createMessage': 'sampling',
  'roots/list': 'roots',
} as const
export type InputMethod = keyof typeof INPUT_METHODS

/**
 * `elicitation/create` parameters: form mode (a message and a flat JSON Schema object), or URL
 * mode (2025-11-25: the user visits `url`; needs the client's `elicitation.url` capability).
 */
export type ElicitParams =
  | {
      mode?: 'form'
      message: string
      requestedSchema: { type: 'object'; properties: Record<string, unknown>; required?: string[] }
      [key: string]: unknown
    }
  | { mode: 'url'; message: string; url: string; elicitationId: string; [key: string]: unknown }
type FormSchema = { properties?: Record<string, unknown>; required?: string[] }

export interface ElicitResult {
  action: 'accept' | 'decline' | 'cancel'
  content?: Record<string, string | number | boolean | string[]>
}
/** `sampling/createMessage` parameters; see the MCP schema for the optional fields. */
export interface SampleParams {
  messages: Array<{ role: 'user' | 'assistant'; content: unknown }>
  maxTokens: number
  [key: string]: unknown
}
export interface SampleResult {
  role: 'user' | 'assistant'
  content: unknown
  model: string
  stopReason?: string
  [key: string]: unknown
}
export interface Root {
  uri: string
  name?: string
}

/**
 * How input requests travel; the protocol era decides. Under 2025 revisions it is a JSON-RPC
 * request on the session (OutboundRequests). A 2026-07-28 era can serve the same handler with its
 * multi-round-trip pattern: answer from the retry's `inputResponses` by `ordinal`, or end the
 * attempt with an `InputRequiredResult`. Either way the handler just awaits a promise.
 */
export interface InputChannel {
  /**
   * Resolves with the client's result; rejects when refused, timed out, cancelled by `signal`, or
   * when the session ends. `ordinal` counts the input requests of this call from 1; `key` names
   * the request in a 2026-07-28 `InputRequiredResult` (the handler's, or `input-<ordinal>`).
   */
  request(
    peer: McpPeer,
    relatedTo: RequestId,
    method: InputMethod,
    params: Record<string, unknown>,
    signal: AbortSignal,
    ordinal: number,
    key: string,
  ): Promise<Record<string, unknown>>
}

/** How a handler names an input request (2026-07-28: its key in `inputRequests`). */
export interface InputRequestOptions {
  /** Stable across retries: the handler runs again from the start with the answers so far. */
  key?: string
}

/**
 * What every handler (tool, prompt, resource read, completion) sees besides its arguments. The
 * same on every transport and protocol era.
 */
export interface HandlerContext {
  /** Fires when the client cancels the request (notifications/cancelled) or its session ends. */
  readonly signal: AbortSignal
  readonly sessionId: string
  readonly requestId: RequestId
  /** What the client declared it can do (initialize, or a 2026-07-28 request's `_meta`). */
  readonly clientCapabilities: Readonly<Record<string, unknown>>
  /** `notifications/progress` when the caller asked for it (a `_meta.progressToken`). No-op after the call. */
  progress(progress: number, total?: number, message?: string): void
  /** `notifications/message` at or above the session's logging level, on the request's stream. No-op after the call. */
  log(level: LoggingLevel, data: unknown, logger?: string): void
  /**
   * Lets go of the connection while the work goes on: over Streamable HTTP (2025-11-25) this
   * request's SSE stream closes now and the client resumes it with Last-Event-ID to collect the
   * rest (SEP-1699 polling). False, and nothing happens, where the transport cannot, or before
   * the stream has its reader (the handler's first await).
   */
  closeStream(): boolean
  /** Asks the user through the client (`elicitation/create`). */
  elicit(params: ElicitParams, options?: InputRequestOptions): Promise<ElicitResult>
  /** Asks the client's model (`sampling/createMessage`). */
  sample(params: SampleParams, options?: InputRequestOptions): Promise<SampleResult>
  /** The client's roots (`roots/list`). */
  listRoots(options?: InputRequestOptions): Promise<{ roots: Root[] }>
}

/** An input request the client cannot serve, or that did not get an answer. */
export class InputRequestError extends Error {
  override readonly name: string = 'InputRequestError'
}

/** Why an input request still waiting was abandoned: the call that made it ended first. */
export class CallEndedError extends InputRequestError {
  override readonly name = 'CallEndedError'
}

/**
 * An input request refused because the client did not declare the capability it needs. Under
 * 2026-07-28 a request that needs one is answered -32021 (MissingRequiredClientCapability).
 */
export class MissingClientCapabilityError extends InputRequestError {
  override readonly name = 'MissingClientCapabilityError'
  constructor(
    readonly capability: string,
    message: string,
  ) {
    super(message)
  }
}

/** A call's cancellation (a PendingCall): whether it was cancelled, and its signal on demand. */
export interface CallCancellation {
  readonly aborted: boolean
  readonly signal: AbortSignal
}

/** The context of one request; the dispatcher ends it when the request is answered. */
export class CallContext implements HandlerContext {
  readonly #peer: McpPeer
  readonly #progressToken: string | number | undefined
  readonly #input: InputChannel
  #ended = false
  #inputs = 0
  /** Made with the call's first input request: aborted when the call ends, for whatever reason. */
  #inputScope: { controller: AbortController; signal: AbortSignal } | undefined

  readonly #call: CallCancellation

  constructor(
    peer: McpPeer,
    readonly requestId: RequestId,
    /** The call's cancellation; its signal is made only if the handler asks for it. */
    call: CallCancellation,
    meta: unknown,
    input: InputChannel,
  ) {
    this.#call = call
    this.#peer = peer
    this.#input = input
    const token = (meta as { progressToken?: unknown } | undefined)?.progressToken
    this.#progressToken = typeof token === 'string' || typeof token === 'number' ? token : undefined
  }

  get sessionId(): string {
    return this.#peer.sessionId
  }

  get signal(): AbortSignal {
    return this.#call.signal
  }

  /** Whether the dispatcher has ended this call. */
  get ended(): boolean {
    return this.#ended
  }

  get clientCapabilities(): Readonly<Record<string, unknown>> {
    return this.#peer.state.clientCapabilities ?? {}
  }

  /**
   * The request was answered (or abandoned): later progress and log calls do nothing, and input
   * requests it left waiting are cancelled (the client hears `notifications/cancelled`) and
   * released now: none outlives its call.
   */
  end(): void {
    if (this.#ended) return
    this.#ended = true
    this.#inputScope?.controller.abort(
      new CallEndedError(
        `Input request: the call ${JSON.stringify(this.requestId)} that asked for it ended`,
      ),
    )
  }

  #live(): boolean {
    return !this.#ended && !this.#call.aborted
  }

  progress(progress: number, total?: number, message?: string): void {
    if (this.#progressToken === undefined || !this.#live()) return
    const params: Record<string, unknown> = { progressToken: this.#progressToken, progress }
    if (total !== undefined) params.total = total
    if (message !== undefined) params.message = message
    this.#peer.send({ jsonrpc: '2.0', method: 'notifications/progress', params }, this.requestId)
  }

  log(level: LoggingLevel, data: unknown, logger?: string): void {
    if (!this.#live()) return
    const floor = LEVEL_RANK.get(this.#peer.state.logLevel ?? DEFAULT_LOGGING_LEVEL) ?? 0
    if ((LEVEL_RANK.get(level) ?? 0) < floor) return
    const params: Record<string, unknown> = { level, data }
    if (logger !== undefined) params.logger = logger
    this.#peer.send({ jsonrpc: '2.0', method: 'notifications/message', params }, this.requestId)
  }

  closeStream(): boolean {
    if (!this.#live()) return false
    return this.#peer.closeStreamOf?.(this.requestId) ?? false
  }

  async elicit(params: ElicitParams, options?: InputRequestOptions): Promise<ElicitResult> {
    const result = (await this.#ask(
      'elicitation/create',
      params,
      options,
    )) as unknown as ElicitResult
    if (result.action === 'accept' && params.mode !== 'url') {
      const problem = checkElicitedContent(params.requestedSchema as FormSchema, result.content)
      if (problem) {
        throw new InputRequestError(
          `Input request: the client's answer does not fit the requested schema: ${problem}`,
        )
      }
    }
    return result
  }

  sample(params: SampleParams, options?: InputRequestOptions): Promise<SampleResult> {
    return this.#ask(
      'sampling/createMessage',
      params,
      options,
    ) as Promise<unknown> as Promise<SampleResult>
  }

  listRoots(options?: InputRequestOptions): Promise<{ roots: Root[] }> {
    return this.#ask('roots/list', {}, options) as Promise<unknown> as Promise<{ roots: Root[] }>
  }

  async #ask(method: InputMethod, params: Record<string, unknown>, options?: InputRequestOptions) {
    if (this.#ended) throw new InputRequestError(`Input request: ${method} after the call ended`)
    const missing = missingCapability(this.#peer.state.clientCapabilities, method, params)
    if (missing) {
      throw new MissingClientCapabilityError(
        missing.split('.')[0] ?? missing,
        `Input request refused: the client of session ${this.sessionId} did not declare the ${missing} capability`,
      )
    }
    this.#inputs++
    if (!this.#inputScope) {
      const controller = new AbortController()
      this.#inputScope = { controller, signal: AbortSignal.any([this.signal, controller.signal]) }
    }
    return this.#input.request(
      this.#peer,
      this.requestId,
      method,
      params,
      this.#inputScope.signal,
      this.#inputs,
      options?.key ?? `input-${this.#inputs}`,
    )
  }
}

/**
 * The capability the client lacks for this input request, or undefined when it declared what the
 * request needs. Elicitation modes (client/elicitation): `{}` means form only, `{ url: {} }` URL
 * only, and "Servers MUST NOT send elicitation requests with modes that are not supported by the
 * client".
 */
function missingCapability(
  declared: Readonly<Record<string, unknown>> | undefined,
  method: InputMethod,
  params: Record<string, unknown>,
): string | undefined {
  const capability = INPUT_METHODS[method]
  const value = declared?.[capability]
  if (value === undefined) return capability
  if (method !== 'elicitation/create') return undefined
  const modes = (typeof value === 'object' && value !== null ? value : {}) as Record<
    string,
    unknown
  >
  if (params.mode === 'url') return modes.url === undefined ? 'elicitation.url' : undefined
  return modes.form !== undefined || modes.url === undefined ? undefined : 'elicitation.form'
}

/** What a completion function gets besides the partial value. */
export interface CompletionContext {
  /** Arguments or variables the client already resolved (`context.arguments`). */
  readonly arguments: Readonly<Record<string, string>>
  readonly signal: AbortSignal
}

/** Suggests values for one argument or template variable from the partial `value`. */
export type Completer = (
  value: string,
  ctx: CompletionContext,
) => Promise<readonly string[]> | readonly string[]
