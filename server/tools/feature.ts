import type { Counter } from '../observability/metrics.ts'
import { type CallContext, MissingClientCapabilityError } from '../protocol/context.ts'
import { isPromiseLike, TOO_MANY_CALLS } from '../protocol/dispatcher.ts'
import {
  ErrorCode,
  invalidParams,
  missingClientCapability,
  ProtocolError,
} from '../protocol/errors.ts'
import type { McpFeature, MethodHandler } from '../protocol/feature.ts'
import type { McpPeer } from '../protocol/peer.ts'
import { InputRequiredError } from '../protocol/round-trip.ts'
import { isAtLeast, isModernVersion } from '../protocol/versions.ts'
import { ToolInputError, UnknownToolError } from './errors.ts'
import type { ToolRegistry } from './registry.ts'
import type { ToolResult } from './types.ts'

export interface ToolsFeatureOptions {
  tools: ToolRegistry
  toolCalls: Counter
  limitRefusals: Counter
  /** Tool calls one session may have in flight; more are refused with an error. */
  maxCallsPerSession: number
  logger: { warn(event: string, fields: Record<string, unknown>): void }
}

/** tools/list and tools/call; `notifications/tools/list_changed` is sent by the registry's owner. */
export class ToolsFeature implements McpFeature {
  readonly methods: ReadonlyMap<string, MethodHandler>
  readonly #series = new Map<string, { inc(): void }>()

  constructor(private readonly options: ToolsFeatureOptions) {
    this.methods = new Map<string, MethodHandler>([
      ['tools/list', () => ({ tools: this.options.tools.list() })],
      [
        'tools/call',
        (req, ctx, peer) => this.#call(ctx, peer, req.params?.name, req.params?.arguments),
      ],
    ])
  }

  capabilities(): Record<string, unknown> | undefined {
    return this.options.tools.size === 0 ? undefined : { tools: { listChanged: true } }
  }

  /** Seed-server compatibility: a method naming a registered tool is a call of that tool. */
  directCall(method: string): MethodHandler | undefined {
    if (!this.options.tools.has(method)) return undefined
    return (req, ctx, peer) => this.#call(ctx, peer, method, req.params)
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

  /** A tool call: its result at once when the tool answers synchronously, else a promise of it. */
  #call(
    ctx: CallContext,
    peer: McpPeer,
    name: unknown,
    args: unknown,
  ): Record<string, unknown> | undefined | Promise<Record<string, unknown> | undefined> {
    if (typeof name !== 'string') throw invalidParams('tools/call needs a tool "name"')
    if (args !== undefined && (typeof args !== 'object' || args === null || Array.isArray(args))) {
      throw invalidParams(`"arguments" of tool '${name}' must be an object`)
    }
    // This call is already counted among the session's calls.
    const others = peer.calls.size - 1
    if (others >= this.options.maxCallsPerSession) {
      this.options.limitRefusals.inc({ limit: 'calls_per_session' })
      throw new ProtocolError(
        TOO_MANY_CALLS,
        `Too Many Requests: session ${peer.sessionId} has ${others} tool calls in flight, its limit; retry when one finishes`,
      )
    }
    let result: ToolResult | Promise<ToolResult>
    try {
      result = this.options.tools.callNow(name, args, ctx)
    } catch (err) {
      return this.#failed(ctx, peer, name, err)
    }
    if (!isPromiseLike(result)) return this.#succeeded(name, result)
    return result.then(
      (done) => this.#succeeded(name, done),
      (err: unknown) => this.#failed(ctx, peer, name, err),
    )
  }

  #succeeded(name: string, result: ToolResult): Record<string, unknown> {
    this.#toolCallSeries(name, result.isError ? 'error' : 'ok').inc()
    return toRecord(result)
  }

  /** What a failed call answers: a tool error result, nothing (cancelled), or a protocol error thrown. */
  #failed(
    ctx: CallContext,
    peer: McpPeer,
    name: string,
    err: unknown,
  ): Record<string, unknown> | undefined {
    const count = (outcome: string) => this.#toolCallSeries(name, outcome).inc()
    if (ctx.signal.aborted) {
      count('cancelled')
      return undefined
    }
    // The attempt ends asking the client for input (2026-07-28): not a failure of the tool.
    if (err instanceof InputRequiredError) {
      count('input_required')
      throw err
    }
    // 2026-07-28: a request that needs an undeclared client capability is refused (-32021).
    const version = peer.state.protocolVersion
    if (err instanceof MissingClientCapabilityError && version && isModernVersion(version)) {
      count('error')
      throw missingClientCapability(err.capability)
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
  }
}

function toolError(text: string): Record<string, unknown> {
  return { content: [{ type: 'text', text }], isError: true }
}

function toRecord(result: ToolResult): Record<string, unknown> {
  return result as unknown as Record<string, unknown>
}
