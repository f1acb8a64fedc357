import type { Logger } from '../observability/log.ts'
import type { Counter } from '../observability/metrics.ts'
import { ToolInputError, UnknownToolError } from '../tools/errors.ts'
import type { ToolRegistry } from '../tools/registry.ts'
import type { ToolResult } from '../tools/types.ts'
import {
  ErrorCode,
  invalidParams,
  invalidRequest,
  methodNotFound,
  ProtocolError,
} from './errors.ts'
import {
  errorMessage,
  isNotification,
  isRequest,
  type JsonRpcMessage,
  type JsonRpcNotification,
  type JsonRpcRequest,
  resultMessage,
} from './jsonrpc.ts'
import type { McpPeer } from './peer.ts'
import { isAtLeast, negotiateVersion } from './versions.ts'

export interface DispatcherOptions {
  tools: ToolRegistry
  serverInfo: { name: string; version: string }
  toolCalls: Counter
  limitRefusals: Counter
  /** Tool calls one session may have in flight; more are refused with an error. */
  maxCallsPerSession: number
  logger: Logger
  instructions?: string
}

export interface DispatchOptions {
  /** The direct tool-call flow: a method naming a registered tool is a call of that tool. */
  directToolCalls?: boolean
}

/** JSON-RPC server-error code for a refused call (the implementation-defined range). */
export const TOO_MANY_CALLS = -32001

type Handler = (req: JsonRpcRequest, peer: McpPeer) => Promise<Record<string, unknown> | undefined>

/**
 * MCP method dispatch. Requests run concurrently: `dispatch` returns at once and each response
 * is sent on the peer when ready. A cancelled call sends nothing, as the MCP cancellation rules ask.
 */
export class Dispatcher {
  /** A Map, never a plain object: `constructor` or `__proto__` must not look like methods. */
  readonly #handlers: ReadonlyMap<string, Handler>
  readonly #series = new Map<string, { inc(): void }>()

  constructor(private readonly options: DispatcherOptions) {
    this.#handlers = new Map<string, Handler>([
      ['initialize', async (req, peer) => this.#initialize(req, peer)],
      ['ping', async () => ({})],
      ['tools/list', async () => ({ tools: this.options.tools.list() })],
      [
        'tools/call',
        (req, peer) => this.#callTool(req, peer, req.params?.name, req.params?.arguments),
      ],
    ])
  }

  /** Handles one validated message from the peer. Never throws; errors become responses. */
  dispatch(message: JsonRpcMessage, peer: McpPeer, options?: DispatchOptions): void {
    if (isRequest(message)) {
      void this.#answer(message, peer, options)
    } else if (isNotification(message)) {
      this.#notify(message, peer)
    }
    // Responses from the client answer requests sluice never sends yet; nothing to route.
  }

  async #answer(req: JsonRpcRequest, peer: McpPeer, options?: DispatchOptions): Promise<void> {
    try {
      const result = await this.#route(req, peer, options)
      if (result) peer.send(resultMessage(req.id, result))
      else peer.endWithoutResponse(req.id)
    } catch (err) {
      const error =
        err instanceof ProtocolError
          ? err
          : new ProtocolError(ErrorCode.InternalError, 'Internal error: the request failed')
      if (!(err instanceof ProtocolError)) {
        this.options.logger.error('request_failed', {
          session: peer.sessionId,
          method: req.method,
          err,
        })
      }
      peer.send(errorMessage(req.id, error))
    }
  }

  #route(req: JsonRpcRequest, peer: McpPeer, options?: DispatchOptions) {
    const handler = this.#handlers.get(req.method)
    if (handler) {
      if (req.method !== 'initialize' && req.method !== 'ping' && !peer.state.protocolVersion) {
        throw invalidRequest(
          `session ${peer.sessionId} is not initialized; send initialize before ${req.method}`,
        )
      }
      return handler(req, peer)
    }
    // The direct tool-call flow answers these without an initialize handshake; scripts rely on it.
    if (options?.directToolCalls && this.options.tools.has(req.method)) {
      return this.#callTool(req, peer, req.method, req.params)
    }
    throw methodNotFound(req.method)
  }

  /** The bound `sluice_tool_calls_total` series of a (tool, outcome) pair; per call, no label rendering. */
  #toolCallSeries(tool: string, outcome: string): { inc(): void } {
    const key = `${tool}\u0000${outcome}`
    let series = this.#series.get(key)
    if (!series) {
      series = this.options.toolCalls.series({ tool, outcome })
      this.#series.set(key, series)
    }
    return series
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
    }
    // Other notifications (progress, roots/list_changed, ...) need no answer.
  }

  /**
   * Checks an initialize request before anything is created for it, so that a transport can
   * refuse a bad one without opening a session.
   * @throws ProtocolError -32602 naming what is wrong.
   */
  checkInitialize(req: JsonRpcRequest): void {
    readInitializeParams(req.params)
  }

  async #initialize(req: JsonRpcRequest, peer: McpPeer): Promise<Record<string, unknown>> {
    if (peer.state.protocolVersion) {
      throw invalidRequest(`session ${peer.sessionId} is already initialized`)
    }
    const { protocolVersion, clientInfo } = readInitializeParams(req.params)
    const version = negotiateVersion(protocolVersion)
    peer.state.protocolVersion = version
    if (clientInfo) peer.state.clientInfo = clientInfo
    return {
      protocolVersion: version,
      capabilities: { tools: { listChanged: false } },
      serverInfo: this.options.serverInfo,
      ...(this.options.instructions ? { instructions: this.options.instructions } : {}),
    }
  }

  async #callTool(
    req: JsonRpcRequest,
    peer: McpPeer,
    name: unknown,
    args: unknown,
  ): Promise<Record<string, unknown> | undefined> {
    if (typeof name !== 'string') throw invalidParams('tools/call needs a tool "name"')
    if (args !== undefined && (typeof args !== 'object' || args === null || Array.isArray(args))) {
      throw invalidParams(`"arguments" of tool '${name}' must be an object`)
    }
    if (peer.calls.size >= this.options.maxCallsPerSession) {
      this.options.limitRefusals.inc({ limit: 'calls_per_session' })
      throw new ProtocolError(
        TOO_MANY_CALLS,
        `Too Many Requests: session ${peer.sessionId} has ${peer.calls.size} tool calls in flight, its limit; retry when one finishes`,
      )
    }
    const controller = peer.calls.begin(req.id)
    if (!controller)
      throw invalidRequest(`request id ${JSON.stringify(req.id)} is already in flight`)
    const token = (req.params?._meta as { progressToken?: unknown } | undefined)?.progressToken
    const progressToken = typeof token === 'string' || typeof token === 'number' ? token : undefined
    const ctx = {
      signal: controller.signal,
      sessionId: peer.sessionId,
      requestId: req.id,
      progress: (progress: number, total?: number, message?: string) => {
        if (progressToken === undefined || controller.signal.aborted) return
        const params: Record<string, unknown> = { progressToken, progress }
        if (total !== undefined) params.total = total
        if (message !== undefined) params.message = message
        peer.send({ jsonrpc: '2.0', method: 'notifications/progress', params }, req.id)
      },
    }
    const count = (outcome: string) => this.#toolCallSeries(name, outcome).inc()
    try {
      const result = await this.options.tools.call(name, args, ctx)
      count(result.isError ? 'error' : 'ok')
      return controller.signal.aborted ? undefined : toRecord(result)
    } catch (err) {
      if (controller.signal.aborted) {
        count('cancelled')
        return undefined
      }
      if (err instanceof UnknownToolError) {
        this.options.toolCalls.inc({ tool: '(unknown)', outcome: 'unknown_tool' })
        throw new ProtocolError(ErrorCode.InvalidParams, err.message)
      }
      if (err instanceof ToolInputError) {
        count('invalid_input')
        // From 2025-11-25 on, input validation failures are tool execution errors (SEP-1303)
        // so that the model can correct itself; before, they are -32602 protocol errors.
        const version = peer.state.protocolVersion
        if (version && isAtLeast(version, '2025-11-25')) return toolError(err.message)
        throw new ProtocolError(ErrorCode.InvalidParams, err.message)
      }
      count('error')
      this.options.logger.warn('tool_failed', { session: peer.sessionId, tool: name, err })
      return toolError(`Tool error: ${name} failed: ${(err as Error)?.message ?? String(err)}`)
    } finally {
      peer.calls.end(req.id, controller)
    }
  }
}

/** The parts of initialize's params sluice reads. @throws ProtocolError -32602. */
function readInitializeParams(params: Record<string, unknown> | undefined): {
  protocolVersion: string
  clientInfo: { name: string; version: string } | undefined
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
  return { protocolVersion, clientInfo }
}

function isObject(value: unknown): value is Record<string, unknown> {
  return typeof value === 'object' && value !== null && !Array.isArray(value)
}

function toolError(text: string): Record<string, unknown> {
  return { content: [{ type: 'text', text }], isError: true }
}

function toRecord(result: ToolResult): Record<string, unknown> {
  return result as unknown as Record<string, unknown>
}
