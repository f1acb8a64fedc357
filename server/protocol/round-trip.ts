import { createHash } from 'node:crypto'
import type { InputChannel, InputMethod } from './context.ts'
import { ErrorCode, invalidParams, ProtocolError } from './errors.ts'
import type { RequestStateSigner } from './request-state.ts'

/** The requests that may end an attempt with an `InputRequiredResult` (basic/patterns/mrtr.mdx). */
export const ROUND_TRIP_METHODS: ReadonlySet<string> = new Set([
  'tools/call',
  'prompts/get',
  'resources/read',
])

/** How long a `requestState` is honoured after it was issued. */
export const REQUEST_STATE_TTL_MS = 10 * 60_000

/**
 * An attempt needs input the client has not given yet: the handler's input requests made so far
 * go back to the client in an `InputRequiredResult`, and the call ends.
 */
export class InputRequiredError extends Error {
  override readonly name = 'InputRequiredError'
  constructor(readonly channel: RoundTripInput) {
    super('Input required: the request needs input from the client; retry with inputResponses')
  }
}

interface SealedState {
  /** The request it belongs to: method and a digest of its defining parameters. */
  request: string
  /** The principal it was issued to. */
  owner: string
  /** When it lapses, in ms since the epoch. */
  expiresAt: number
  /** The input responses gathered by earlier attempts, by key. */
  responses: Record<string, unknown>
}

/**
 * The input channel of one 2026-07-28 attempt (the multi-round-trip pattern). An input request
 * whose key has a response (from this retry's `inputResponses`, or earlier rounds carried in the
 * signed `requestState`) is answered at once; any other ends the attempt with an
 * `InputRequiredResult` naming every input request still missing. The handler is the one the 2025
 * transports serve with server-to-client requests: it just awaits `ctx.elicit()` and the like,
 * and runs again from the start on each retry, so it must ask in the same order with the same keys.
 */
export class RoundTripInput implements InputChannel {
  readonly #missing = new Map<string, { method: InputMethod; params: Record<string, unknown> }>()
  /** Keys the handler asked for in this attempt, answered or not. */
  readonly #asked = new Set<string>()
  readonly #responses: Record<string, unknown>

  private constructor(
    private readonly signer: RequestStateSigner,
    /** The request's digest, computed when first needed: most attempts never seal a state. */
    private readonly requestOf: () => string,
    private readonly owner: string,
    responses: Record<string, unknown>,
    private readonly maxStateBytes: number,
  ) {
    this.#responses = responses
  }

  /**
   * The channel for one request: verifies the retry's `requestState` (signed, unexpired, issued to
   * this principal for this request) and merges its responses with `inputResponses`.
   * `maxStateBytes` bounds the state it seals: a retry carrying it must still fit the body limit.
   * `arrived` gives the parameters as they arrived (a handler may change its arguments before it
   * asks for input), read only when the request's digest is needed, which most attempts never
   * need; a transport that keeps the body's text reads them again from it. By default they are
   * copied now.
   * @throws ProtocolError -32602 for a state that fails verification or malformed inputResponses.
   */
  static forRequest(
    signer: RequestStateSigner,
    method: string,
    params: Record<string, unknown> | undefined,
    owner: string,
    maxStateBytes: number,
    arrived: () => Record<string, unknown> | undefined = copied(params),
    now = Date.now(),
  ): RoundTripInput {
    let digest: string | undefined
    const requestOf = () => {
      digest ??= requestDigest(method, salientParams(arrived()))
      return digest
    }
    const given = params?.inputResponses
    if (
      given !== undefined &&
      (typeof given !== 'object' || given === null || Array.isArray(given))
    ) {
      throw invalidParams('"inputResponses" must be an object of input responses by key')
    }
    const sealed = params?.requestState
    let earlier: Record<string, unknown> = NO_RESPONSES
    if (sealed !== undefined) {
      if (typeof sealed !== 'string') throw invalidParams('"requestState" must be a string')
      const state = signer.verify(sealed) as SealedState
      if (state.owner !== owner || state.request !== requestOf()) {
        throw invalidParams('requestState belongs to another request; retry it from the start')
      }
      if (state.expiresAt < now) {
        throw invalidParams('requestState has expired; retry the request from the start')
      }
      earlier = state.responses
    }
    const responses = given === undefined ? earlier : { ...earlier, ...(given as object) }
    return new RoundTripInput(signer, requestOf, owner, responses, maxStateBytes)
  }

  request(
    _peer: unknown,
    _relatedTo: unknown,
    method: InputMethod,
    params: Record<string, unknown>,
    _signal: AbortSignal,
    _ordinal: number,
    key: string,
  ): Promise<Record<string, unknown>> {
    this.#asked.add(key)
    const response = Object.hasOwn(this.#responses, key) ? this.#responses[key] : undefined
    // A response that is not an object is no answer: it is asked for again.
    if (typeof response === 'object' && response !== null && !Array.isArray(response)) {
      return Promise.resolve(response as Record<string, unknown>)
    }
    this.#missing.set(key, { method, params })
    return Promise.reject(new InputRequiredError(this))
  }

  /**
   * The `InputRequiredResult` that ends this attempt: every input request still missing, and the
   * answers the handler asked for so far (keys it never asked are not carried). A ProtocolError
   * when those answers are too large to travel back in a retry.
   */
  result(now = Date.now()): Record<string, unknown> | ProtocolError {
    const responses = Object.fromEntries(
      Object.entries(this.#responses).filter(
        ([key]) => this.#asked.has(key) && !this.#missing.has(key),
      ),
    )
    const state: SealedState = {
      request: this.requestOf(),
      owner: this.owner,
      expiresAt: now + REQUEST_STATE_TTL_MS,
      responses,
    }
    const requestState = this.signer.sign(state)
    if (requestState.length > this.maxStateBytes) {
      return new ProtocolError(
        ErrorCode.InternalError,
        `Internal error: the answers gathered so far (${requestState.length} bytes as requestState) exceed this server's limit of ${this.maxStateBytes} bytes for a retry`,
      )
    }
    return {
      resultType: 'input_required',
      inputRequests: Object.fromEntries(this.#missing),
      requestState,
    }
  }
}

/** Answers gathered by no earlier attempt (read only, shared). */
const NO_RESPONSES: Record<string, unknown> = Object.freeze({})

/** The parameters that define the request as they are now, for a digest taken later. */
function copied(
  params: Record<string, unknown> | undefined,
): () => Record<string, unknown> | undefined {
  // Without `_meta` (most of a request's parameters), which the digest leaves out anyway.
  const text = JSON.stringify(salientParams(params))
  return () => JSON.parse(text)
}

/** The parameters that define the request (not its round-trip fields). */
function salientParams(params: Record<string, unknown> | undefined): Record<string, unknown> {
  const { _meta, inputResponses, requestState, ...salient } = params ?? {}
  return salient
}

/** The method and a digest of the parameters that define the request. */
function requestDigest(method: string, salient: unknown): string {
  return `${method}:${createHash('sha256').update(stableJson(salient)).digest('base64url')}`
}

/** JSON with object keys sorted, so equal parameters digest alike whatever their key order. */
function stableJson(value: unknown): string {
  if (Array.isArray(value)) return `[${value.map(stableJson).join(',')}]`
  if (value && typeof value === 'object') {
    const entries = Object.keys(value)
      .sort()
      .map((k) => `${JSON.stringify(k)}:${stableJson((value as Record<string, unknown>)[k])}`)
    return `{${entries.join(',')}}`
  }
  return JSON.stringify(value) ?? 'null'
}
