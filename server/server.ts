import type { TObject } from '@sinclair/typebox'
import pkg from '../package.json' with { type: 'json' }
import type { Config } from './config.ts'
import { createHttpApp } from './http/app.ts'
import { createLogger, type Logger } from './observability/log.ts'
import { createServerMetrics, type ServerMetrics } from './observability/server-metrics.ts'
import { Dispatcher } from './protocol/dispatcher.ts'
import { SessionRegistry } from './session/registry.ts'
import { registerBuiltinTools } from './tools/builtin.ts'
import { ToolRegistry } from './tools/registry.ts'
import type { ToolDefinition, ToolHandler } from './tools/types.ts'
import { LegacySseTransport } from './transport/legacy-sse.ts'

export const SERVER_NAME = 'sluice'
export const SERVER_VERSION: string = pkg.version

export interface SluiceOptions {
  logger?: Logger
  /** Register echo, add and sleep (default true). */
  builtinTools?: boolean
}

/**
 * A sluice server: register tools with `tool()`, then `listen()`. Wires the layers together:
 * http -> transport -> session -> protocol -> tools.
 */
export class SluiceServer {
  readonly metrics: ServerMetrics
  readonly sessions: SessionRegistry
  readonly tools = new ToolRegistry()
  readonly logger: Logger
  readonly #app: ReturnType<typeof createHttpApp>
  readonly #startedAt = performance.now()
  #url: URL | undefined

  constructor(
    readonly config: Config,
    options: SluiceOptions = {},
  ) {
    this.logger = options.logger ?? createLogger({ level: config.logLevel })
    this.metrics = createServerMetrics()
    this.sessions = new SessionRegistry(
      {
        maxQueueMessages: config.maxQueueMessages,
        maxQueueBytes: config.maxQueueBytes,
        keepaliveMs: config.keepaliveMs,
        sendDeadlineMs: config.sendDeadlineMs,
        idleTtlMs: config.sessionTtlMs,
      },
      this.metrics,
      this.logger,
    )
    this.metrics.registry.gauge('sluice_sessions_open', 'Open sessions.', () => this.sessions.size)
    this.metrics.registry.gauge(
      'sluice_sse_streams_open',
      'Open SSE streams.',
      () => this.sessions.streamsOpen,
    )
    if (options.builtinTools !== false) registerBuiltinTools(this.tools)
    const dispatcher = new Dispatcher({
      tools: this.tools,
      serverInfo: { name: SERVER_NAME, version: SERVER_VERSION },
      toolCalls: this.metrics.toolCalls,
      logger: this.logger,
    })
    const legacy = new LegacySseTransport({
      registry: this.sessions,
      dispatcher,
      metrics: this.metrics,
      maxBodyBytes: config.maxBodyBytes,
    })
    this.#app = createHttpApp({
      legacy,
      health: () => ({
        status: 'ok',
        name: SERVER_NAME,
        version: SERVER_VERSION,
        uptimeSeconds: Math.round((performance.now() - this.#startedAt) / 1000),
        sessionsOpen: this.sessions.size,
      }),
      metrics: () => this.metrics.registry.render(),
    })
  }

  /** Registers a tool; see ToolRegistry.tool. */
  tool<S extends TObject>(
    name: string,
    definition: ToolDefinition<S>,
    handler: ToolHandler<S>,
  ): this {
    this.tools.tool(name, definition, handler)
    return this
  }

  /** The base URL once listening. */
  get url(): URL {
    if (!this.#url) throw new Error('sluice is not listening yet')
    return this.#url
  }

  /** Starts listening on the configured host and port (0: the OS picks). */
  listen(): URL {
    this.#app.listen({
      hostname: this.config.host,
      port: this.config.port,
      // Our own limit answers with a JSON-RPC body; Bun's is only a backstop.
      maxRequestBodySize: Math.max(this.config.maxBodyBytes * 2, 16 * 1024 * 1024),
    })
    const server = this.#app.server
    if (!server) throw new Error('sluice: the HTTP server did not start')
    const host = server.hostname?.includes(':') ? `[${server.hostname}]` : server.hostname
    this.#url = new URL(`http://${host}:${server.port}`)
    this.logger.info('listening', { url: this.#url.href, version: SERVER_VERSION })
    return this.#url
  }

  /** Closes every session and the listener. */
  async stop(): Promise<void> {
    this.sessions.closeAll('shutdown')
    await this.#app.stop(true)
  }
}
