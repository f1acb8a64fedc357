import type { Logger } from '../observability/log.ts'
import { CallContext, type InputChannel } from './context.ts'
import {
  ErrorCode,
  invalidParams,
  invalidRequest,
  methodNotFound,
  ProtocolError,
} from './errors.ts'
import type { McpFeature, MethodHandler, NotificationHandler } from './feature.ts'
import {
  errorMessage,
  isNotification,
  isRequest,
  type JsonRpcError,
  type JsonRpcMessage,
  type JsonRpcNotification,
  type JsonRpcRequest,
  type JsonRpcResult,
  resultMessage,
} from './jsonrpc.ts'
import type { McpPeer } from './peer.ts'
import type { PendingCall } from './pending-calls.ts'
import { META } from './request-meta.ts'
import { InputRequiredError, ROUND_TRIP_METHODS } from './round-trip.ts'
import { ALL_PROTOCOL_VERSIONS, negotiateVersion } from './versions.ts'

export interface DispatcherOptions {
  features: readonly McpFeature[]
  /** How handlers' input requests travel, and where the client's responses to them go. */
  input: InputChannel & { settle(peer: McpPeer, response: JsonRpcResult | JsonRpcError): void }
  serverInfo: { name: string; version: string }
  logger: Logger
  instructions?: string
  /** The direct tool-call flow: the handler for a method that is not an MCP method, if any. */
  directCall?: (method: string) => MethodHandler | undefined
}

export interface DispatchOptions {
  /** The direct tool-call flow: a method naming a registered tool is a call of that tool. */
  directToolCalls?: boolean
}

/** The methods the dispatcher answers itself; no feature may take them. */
const LIFECYCLE_METHODS: ReadonlySet<string> = new Set(['initialize', 'ping', 'server/discover'])

/** JSON-RPC server-error code for a refused call (the implementation-defined range). */
export const TOO_MANY_CALLS = -32001

/**
 * MCP method dispatch. Requests run concurrently: `dispatch` returns at once and each response
 * is sent on the peer when ready. A cancelled request sends nothing, as the MCP cancellation rules
 * ask. The lifecycle (initialize, ping, cancellation) is here; every other method comes from a
 * feature.
 */
export class Dispatcher {
  /** Maps, never plain objects: `constructor` or `__proto__` must not look like methods. */
  readonly #handlers = new Map<string, MethodHandler>()
  readonly #notifications = new Map<string, NotificationHandler>()
  /** The feature answering each method. */
  readonly #featureOf = new Map<string, McpFeature>()
  /** Calls whose handler is running, whatever became of their peer (a cancelled one runs on). */
  #running = 0
  /** Per session, the features that announced a capability at its initialize. */
  readonly #announced = new WeakMap<McpPeer, ReadonlySet<McpFeature>>()
  /**
   * The last initialize's announcement and client declarations: the next session that gets or
   * sends the same shares these objects instead of holding copies (most clients are alike).
   */
  #lastAnnounced:
    | { json: string; capabilities: Record<string, unknown>; features: ReadonlySet<McpFeature> }
    | undefined
  #lastClientInfo: { name: string; version: string } | undefined
  #lastDeclared: { json: string; capabilities: Record<string, unknown> } | undefined

  constructor(private readonly options: DispatcherOptions) {
    for (const feature of options.features) {
      for (const [method, handler] of feature.methods) {
        if (this.#handlers.has(method) || LIFECYCLE_METHODS.has(method)) {
          throw new Error(`sluice: two features answer ${method}`)
        }
        this.#handlers.set(method, handler)
        this.#featureOf.set(method, feature)
      }
      for (const [method, handler] of feature.notifications ?? []) {
        this.#notifications.set(method, handler)
      }
    }
  }

  /** Handlers running now, over every session and request: until each returns, cancelled or not. */
  get callsRunning(): number {
    return this.#running
  }

  /** Whether a method has a handler (2026-07-28 answers an unknown one with HTTP 404 up front). */
  knows(method: string): boolean {
    if (LIFECYCLE_METHODS.has(method)) return true
    const feature = this.#featureOf.get(method)
    return feature !== undefined && feature.capabilities() !== undefined
  }

  /** Handles one validated message from the peer. Never throws; errors become responses. */
  dispatch(message: JsonRpcMessage, peer: McpPeer, options?: DispatchOptions): void {
    if (isRequest(message)) {
      this.#answer(message, peer, options)
    } else if (isNotification(message)) {
      this.#notify(message, peer)
    } else {
      // A response: the client answering one of our input requests.
      this.options.input.settle(peer, message)
    }
  }

  /**
   * The hot path: resolve the handler, run it as a cancellable call of the session with its
   * context, end the call, then send the result or the error. A handler that answers
   * synchronously is answered before `dispatch` returns (no promise, no microtask), so a
   * transport building its response right after finds the answer already there.
   */
  #answer(req: JsonRpcRequest, peer: McpPeer, options?: DispatchOptions): void {
    let call: PendingCall | undefined
    let ctx: CallContext | undefined
    try {
      if (LIFECYCLE_METHODS.has(req.method)) {
        this.#respond(req, peer, this.#lifecycle(req, peer))
        return
      }
      const handler = this.#handler(req, peer, options)
      call = peer.calls.begin(req.id)
      if (!call) throw invalidRequest(`request id ${JSON.stringify(req.id)} is already in flight`)
      this.#running++
      ctx = new CallContext(peer, req.id, call, req.params?._meta, peer.input ?? this.options.input)
      const out = handler(req, ctx, peer)
      if (!isPromiseLike(out)) {
        this.#finish(req, peer, call, ctx, out)
        return
      }
      const pending = call
      const context = ctx
      void Promise.resolve(out)
        .then((result) => this.#finish(req, peer, pending, context, result))
        .catch((err: unknown) => this.#fail(req, peer, err, pending, context))
    } catch (err) {
      this.#fail(req, peer, err, call, ctx)
    }
  }

  /** The handler returned: end the call, then answer unless it was cancelled. */
  #finish(
    req: JsonRpcRequest,
    peer: McpPeer,
    call: PendingCall,
    ctx: CallContext,
    result: Record<string, unknown> | undefined,
  ): void {
    this.#endCall(req, peer, call, ctx)
    // A cancelled request sends nothing; its stream stops waiting for it.
    this.#respond(req, peer, call.aborted ? undefined : result)
  }

  #lifecycle(req: JsonRpcRequest, peer: McpPeer): Record<string, unknown> {
    if (req.method === 'initialize') return this.#initialize(req, peer)
    if (req.method === 'server/discover') return this.#discover()
    return {}
  }

  #respond(req: JsonRpcRequest, peer: McpPeer, result: Record<string, unknown> | undefined): void {
    if (result) peer.send(resultMessage(req.id, result))
    else peer.endWithoutResponse(req.id)
  }

  /** The handler (or the answer) failed: the error becomes the response, unless cancelled. */
  #fail(
    req: JsonRpcRequest,
    peer: McpPeer,
    err: unknown,
    call: PendingCall | undefined,
    ctx: CallContext | undefined,
  ): void {
    if (call && ctx) {
      this.#endCall(req, peer, call, ctx)
      if (call.aborted) {
        peer.endWithoutResponse(req.id)
        return
      }
    }
    // 2026-07-28: the attempt needs input; the client retries with it (multi round-trip).
    if (err instanceof InputRequiredError && ROUND_TRIP_METHODS.has(req.method)) {
      const result = err.channel.result()
      peer.send(
        result instanceof ProtocolError
          ? errorMessage(req.id, result)
          : resultMessage(req.id, result),
      )
      return
    }
    const error =
      err instanceof ProtocolError
        ? err
        : err instanceof InputRequiredError
          ? invalidRequest(`${req.method} cannot ask the client for input`)
          : new ProtocolError(ErrorCode.InternalError, 'Internal error: the request failed')
    if (error.code === ErrorCode.InternalError) {
      this.options.logger.error('request_failed', {
        session: peer.sessionId,
        method: req.method,
        err,
      })
    }
    peer.send(errorMessage(req.id, error))
  }

  /** The handler of a feature method. @throws ProtocolError for unknown methods or before initialize. */
  #handler(req: JsonRpcRequest, peer: McpPeer, options?: DispatchOptions): MethodHandler {
    const handler = this.#handlers.get(req.method)
    if (handler) {
      if (!peer.state.protocolVersion) {
        throw invalidRequest(
          `session ${peer.sessionId} is not initialized; send initialize before ${req.method}`,
        )
      }
      // A feature this session was not announced (nothing registered at its initialize) does
      // not answer there: the client was told the server has no such capability.
      // A 2026-07-28 request has no initialize: what server/discover would announce now counts.
      const feature = this.#featureOf.get(req.method)
      if (!feature) throw methodNotFound(req.method)
      const announced = this.#announced.get(peer)
      const answers = announced ? announced.has(feature) : feature.capabilities() !== undefined
      if (!answers) throw methodNotFound(req.method)
      return handler
    }
    // The direct tool-call flow answers these without an initialize handshake; scripts rely on it.
    const direct = options?.directToolCalls ? this.options.directCall?.(req.method) : undefined
    if (!direct) throw methodNotFound(req.method)
    return direct
  }

  #endCall(req: JsonRpcRequest, peer: McpPeer, call: PendingCall, ctx: CallContext): void {
    if (ctx.ended) return
    this.#running--
    ctx.end()
    peer.calls.end(req.id, call)
  }

  #notify(note: JsonRpcNotification, peer: McpPeer): void {
    if (note.method === 'notifications/initialized') {
      peer.state.clientReady = true
    } else if (note.method === 'notifications/cancelled') {
      const id = note.params?.requestId
      if (typeof id === 'string' || typeof id === 'number') {
        const reason = typeof note.params?.reason === 'string' ? note.params.reason : 'cancelled'
        peer.calls.cancel(id, reason)
      }
    } else if (peer.state.protocolVersion) {
      // Others (progress, roots/list_changed, ...) need no answer; a feature may listen, once the
      // session is initialized. Its failure stays here: dispatch never throws, so a batch's other
      // requests are still answered and their ids freed.
      const handler = this.#notifications.get(note.method)
      if (!handler) return
      try {
        handler(note, peer)
      } catch (err) {
        this.options.logger.warn('notification_handler_failed', {
          session: peer.sessionId,
          method: note.method,
          err,
        })
      }
    }
  }

  /**
   * `server/discover` (2026-07-28, MUST): every version sluice speaks, the features' capabilities
   * and its identity. A 2026 request's peer adds the caching hints and `resultType`.
   */
  #discover(): Record<string, unknown> {
    const capabilities: Record<string, unknown> = {}
    for (const feature of this.options.features) Object.assign(capabilities, feature.capabilities())
    return {
      supportedVersions: ALL_PROTOCOL_VERSIONS,
      capabilities,
      ...(this.options.instructions ? { instructions: this.options.instructions } : {}),
      _meta: { [META.serverInfo]: this.options.serverInfo },
    }
  }

  /**
   * Checks an initialize request before anything is created for it, so that a transport can
   * refuse a bad one without opening a session.
   * @throws ProtocolError -32602 naming what is wrong.
   */
  checkInitialize(req: JsonRpcRequest): void {
    readInitializeParams(req.params)
  }

  #initialize(req: JsonRpcRequest, peer: McpPeer): Record<string, unknown> {
    if (peer.state.protocolVersion) {
      throw invalidRequest(`session ${peer.sessionId} is already initialized`)
    }
    const { protocolVersion, clientInfo, capabilities: declared } = readInitializeParams(req.params)
    const version = negotiateVersion(protocolVersion)
    peer.state.protocolVersion = version
    if (clientInfo) peer.state.clientInfo = this.#sharedClientInfo(clientInfo)
    if (declared) peer.state.clientCapabilities = this.#sharedDeclared(declared)
    const { capabilities, features } = this.#announcement()
    this.#announced.set(peer, features)
    peer.state.serverCapabilities = capabilities
    return {
      protocolVersion: version,
      capabilities,
      serverInfo: this.options.serverInfo,
      ...(this.options.instructions ? { instructions: this.options.instructions } : {}),
    }
  }

  /** What this server announces now, the objects of the last initialize when it is the same. */
  #announcement(): { capabilities: Record<string, unknown>; features: ReadonlySet<McpFeature> } {
    const capabilities: Record<string, unknown> = {}
    const features = new Set<McpFeature>()
    for (const feature of this.options.features) {
      const own = feature.capabilities()
      if (own === undefined) continue
      Object.assign(capabilities, own)
      features.add(feature)
    }
    const json = JSON.stringify(capabilities)
    const last = this.#lastAnnounced
    if (last?.json === json && last.features.size === features.size) {
      let same = true
      for (const feature of features) same &&= last.features.has(feature)
      if (same) return last
    }
    this.#lastAnnounced = { json, capabilities: deepFreeze(capabilities), features }
    return this.#lastAnnounced
  }

  #sharedClientInfo(info: { name: string; version: string }): { name: string; version: string } {
    const last = this.#lastClientInfo
    if (last?.name === info.name && last.version === info.version) return last
    this.#lastClientInfo = deepFreeze(info)
    return info
  }

  #sharedDeclared(capabilities: Record<string, unknown>): Record<string, unknown> {
    const json = JSON.stringify(capabilities)
    if (this.#lastDeclared?.json === json) return this.#lastDeclared.capabilities
    this.#lastDeclared = { json, capabilities: deepFreeze(capabilities) }
    return capabilities
  }
}

/** The parts of initialize's params sluice reads. @throws ProtocolError -32602. */
function readInitializeParams(params: Record<string, unknown> | undefined): {
  protocolVersion: string
  clientInfo: { name: string; version: string } | undefined
  capabilities: Record<string, unknown> | undefined
} {
  const protocolVersion = params?.protocolVersion
  if (typeof protocolVersion !== 'string') throw invalidParams('initialize needs "protocolVersion"')
  const capabilities = params?.capabilities
  if (capabilities !== undefined && !isObject(capabilities)) {
    throw invalidParams('"capabilities" of initialize must be an object')
  }
  const info = params?.clientInfo
  if (info !== undefined && !isObject(info)) {
    throw invalidParams('"clientInfo" of initialize must be an object')
  }
  const clientInfo =
    info && typeof info.name === 'string'
      ? { name: info.name, version: String(info.version ?? '') }
      : undefined
  return { protocolVersion, clientInfo, capabilities }
}

function isObject(value: unknown): value is Record<string, unknown> {
  return typeof value === 'object' && value !== null && !Array.isArray(value)
}

/** Whether a handler answered later (a promise, or any thenable) rather than at once. */
export function isPromiseLike<T>(value: T | PromiseLike<T>): value is PromiseLike<T> {
  return typeof (value as { then?: unknown } | null | undefined)?.then === 'function'
}

/**
 * Freezes `value` and everything in it: an object shared by every session that initialized
 * alike must not be changed through one of them.
 */
function deepFreeze<T>(value: T): T {
  if (typeof value === 'object' && value !== null && !Object.isFrozen(value)) {
    Object.freeze(value)
    for (const inner of Object.values(value)) deepFreeze(inner)
  }
  return value
}
