import { randomBytes } from 'node:crypto'
import type { TObject } from '@sinclair/typebox'
import pkg from '../package.json' with { type: 'json' }
import type { Cluster } from './cluster/cluster.ts'
import type { Config } from './config.ts'
import { composeFeatures, type RegistrationKind, registrations } from './features.ts'
import { createHttpApp, type HttpRoutes } from './http/app.ts'
import { createModernEra } from './modern-era.ts'
import { createLogger, type Logger } from './observability/log.ts'
import { createServerMetrics, type ServerMetrics } from './observability/server-metrics.ts'
import { PromptRegistry } from './prompts/registry.ts'
import type { PromptDefinition, PromptHandler } from './prompts/types.ts'
import { type ChangeBus, InProcessChangeBus } from './protocol/change-bus.ts'
import type { Dispatcher } from './protocol/dispatcher.ts'
import type { CachePolicy } from './protocol/modern-results.ts'
import type { OutboundRequests } from './protocol/outbound-requests.ts'
import type { ResourcesFeature } from './resources/feature.ts'
import { ResourceRegistry } from './resources/registry.ts'
import type {
  ResourceMeta,
  ResourceReader,
  ResourceTemplateMeta,
  TemplateReader,
} from './resources/types.ts'
import type { RootsFeature, RootsListener } from './roots/feature.ts'
import { SessionRegistry } from './session/registry.ts'
import type { RequestRegistry } from './session/request-registry.ts'
import { timerWheel } from './session/timer-wheel.ts'
import { registerBuiltinTools } from './tools/builtin.ts'
import { ToolRegistry } from './tools/registry.ts'
import type { ToolDefinition, ToolHandler } from './tools/types.ts'
import { BearerAuth } from './transport/auth.ts'
import { CorsPolicy } from './transport/cors.ts'
import { EraRouter } from './transport/era-router.ts'
import { LegacySseTransport } from './transport/legacy-sse.ts'
import { OriginGuard } from './transport/origin-guard.ts'
import { StreamableHttpTransport } from './transport/streamable-http.ts'

export type { RegistrationKind } from './features.ts'

export const SERVER_NAME = 'sluice'
export const SERVER_VERSION: string = pkg.version

export interface SluiceOptions {
  logger?: Logger
  /** Register echo, add and sleep (default true). */
  builtinTools?: boolean
  /** What `initialize` answers as `serverInfo` and /health shows (default sluice's own). */
  serverInfo?: { name: string; version: string }
  /**
   * Where list changes travel to `subscriptions/listen` streams (default: in-process). Pass a bus
   * on Redis or NATS to fan changes out over many processes.
   */
  changeBus?: ChangeBus
  /** Caching hints of 2026-07-28 results, per method (default: --cache-ttl-ms, --cache-scope). */
  cache?: Partial<CachePolicy>
}

/**
 * A sluice server: register tools, resources and prompts, then `listen()`. Wires the layers
 * together: http -> transport -> session -> protocol <- features (tools, resources, prompts,
 * completion, logging).
 */
export class SluiceServer {
  readonly metrics: ServerMetrics
  readonly sessions: SessionRegistry
  /** The 2026-07-28 era's requests in flight and listen streams (there are no sessions). */
  readonly requests: RequestRegistry
  /** This instance in a cluster (`--instance-id`, or random per process); shown in /health. */
  readonly instanceId: string
  readonly tools = new ToolRegistry()
  readonly resources = new ResourceRegistry()
  readonly prompts = new PromptRegistry()
  /** Server-to-client requests (elicitation, sampling, roots) waiting for an answer. */
  readonly inputRequests: OutboundRequests
  readonly logger: Logger
  readonly #resourcesFeature: ResourcesFeature
  readonly #rootsFeature: RootsFeature
  readonly #app: ReturnType<typeof createHttpApp>
  readonly #dispatcher: Dispatcher
  readonly #routes: HttpRoutes
  /** The same routes over the same sessions, built for mounting in another Elysia app. */
  #plugin: ReturnType<typeof createHttpApp> | undefined
  readonly #startedAt = performance.now()
  /** The Bun server of each request that came through `fetch()`, for its socket timeouts. */
  readonly #mountedOn = new WeakMap<Request, Bun.Server<unknown>>()
  #mountedPort: number | undefined
  /** The port of our own listener, once it listens. */
  #listenPort: number | undefined
  /** The port of the parent app's listener, once the plugin's parent listens. */
  #pluginPort: number | undefined
  #url: URL | undefined
  #stopped = false
  #changes: ChangeBus
  /** The cluster layer, loaded only when `redisUrl` is set. */
  readonly #cluster: Promise<Cluster> | undefined
  /** Requests another instance relayed here (they passed its guard already). */
  readonly #relayed = new WeakSet<Request>()

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
        maxSessions: config.maxSessions,
        maxSessionsPerOwner: config.maxSessionsPerToken,
        maxBufferedBytes: config.maxBufferedBytes,
        replayEvents: config.replayEvents,
        replayBytes: config.replayBytes,
        retainedStreams: RETAINED_RESPONSE_STREAMS,
      },
      this.metrics,
      this.logger,
    )
    this.metrics.registry.gauge('sluice_sessions_open', 'Open sessions.', () => this.sessions.size)
    this.metrics.registry.gauge(
      'sluice_tool_calls_in_flight',
      'Handlers running now, in sessions and in 2026-07-28 requests (a cancelled one until it returns).',
      () => this.#dispatcher.callsRunning,
    )
    this.metrics.registry.gauge(
      'sluice_sse_streams_open',
      'Open SSE streams.',
      () => this.sessions.streamsOpen,
    )
    this.metrics.registry.gauge(
      'sluice_buffered_bytes',
      'Unsent and replay bytes all sessions hold, charged to --max-buffered-bytes.',
      () => this.sessions.budget.usedBytes,
    )
    this.metrics.registry.gauge(
      'sluice_timer_wheel_entries',
      'Stream pacers and idle-TTL sessions on the timer wheel (one per process, shared by its servers).',
      () => timerWheel.size,
    )
    this.instanceId = config.instanceId || randomBytes(6).toString('hex')
    const localChanges = new InProcessChangeBus()
    this.#changes = options.changeBus ?? localChanges
    const serverInfo = options.serverInfo ?? { name: SERVER_NAME, version: SERVER_VERSION }
    if (options.builtinTools !== false) registerBuiltinTools(this.tools)
    const features = composeFeatures({
      config,
      metrics: this.metrics,
      logger: this.logger,
      tools: this.tools,
      resources: this.resources,
      prompts: this.prompts,
      sessions: this.sessions,
      serverInfo,
      onListChanged: (what) => this.changes.publish({ kind: `${what}ListChanged` }),
    })
    this.inputRequests = features.inputRequests
    this.#resourcesFeature = features.resources
    this.#rootsFeature = features.roots
    const dispatcher = features.dispatcher
    this.#dispatcher = dispatcher
    const legacy = new LegacySseTransport({
      registry: this.sessions,
      dispatcher,
      metrics: this.metrics,
      logger: this.logger,
      maxBodyBytes: config.maxBodyBytes,
    })
    const streamable = new StreamableHttpTransport({
      registry: this.sessions,
      dispatcher,
      metrics: this.metrics,
      logger: this.logger,
      maxBodyBytes: config.maxBodyBytes,
      maxBatchRequests: config.maxQueueMessages,
      sendDeadlineMs: config.sendDeadlineMs,
      preferJson: config.preferJson,
      retryMs: PRIMING_RETRY_MS,
    })
    const modern = createModernEra({
      config,
      metrics: this.metrics,
      logger: this.logger,
      sessions: this.sessions,
      dispatcher,
      tools: this.tools,
      serverInfo,
      changes: this.#changes,
      cache: options.cache,
    })
    this.requests = modern.requests
    this.#routes = {
      legacy,
      streamable,
      eras: new EraRouter({
        streamable,
        stateless: modern.transport,
        maxBodyBytes: config.maxBodyBytes,
      }),
      guard: new OriginGuard({
        port: () => this.#guardPort(),
        loopback: isLoopbackHost(config.host),
        // One policy: an origin allowed for CORS may also pass the rebinding guard.
        allowedOrigins: [...config.allowedOrigins, ...config.corsOrigins],
        allowedHosts: config.allowedHosts,
      }),
      auth: new BearerAuth(config.authTokens),
      cors: new CorsPolicy(config.corsOrigins),
      serverOf: (request) => this.#mountedOn.get(request),
      health: () => ({
        status: 'ok',
        name: serverInfo.name,
        version: serverInfo.version,
        instance: this.instanceId,
        uptimeSeconds: Math.round((performance.now() - this.#startedAt) / 1000),
        sessionsOpen: this.sessions.size,
        requestsInFlight: this.requests.inFlight,
        subscriptionsOpen: this.requests.subscriptionsOpen,
      }),
      metrics: () =>
        this.#cluster
          ? labelEvery(this.metrics.registry.render(), 'instance', this.instanceId)
          : this.metrics.registry.render(),
    }
    if (config.redisUrl) {
      const cluster = import('./cluster/cluster.ts').then(({ Cluster }) =>
        Cluster.start({
          redisUrl: config.redisUrl,
          instanceId: this.instanceId,
          instanceTtlMs: config.instanceTtlMs,
          eventStore: config.eventStore === 'on',
          replayEvents: config.replayEvents,
          idleTtlMs: config.sessionTtlMs,
          sessions: this.sessions,
          localChanges,
          handle: (request) => {
            this.#relayed.add(request)
            return this.#app.handle(request)
          },
          relayLimits: {
            maxBodyBytes: config.maxBodyBytes,
            maxBufferedBytes: config.maxQueueBytes,
            sendDeadlineMs: config.sendDeadlineMs,
          },
          metrics: this.metrics.registry,
          logger: this.logger,
        }),
      )
      this.#cluster = cluster.then((started) => {
        if (!options.changeBus) this.#changes = started.changes
        return started
      })
      this.#cluster.catch((err: unknown) => this.logger.error('cluster_failed', { err }))
      this.#routes.relay = async (request, owner, keepOpen) =>
        (await cluster).route(request, owner, keepOpen)
      this.#routes.relayed = (request) => this.#relayed.has(request)
    }
    this.#app = createHttpApp(this.#routes)
  }

  /** Change events (list changes, resource updates) for listen streams; cluster-wide with Redis. */
  get changes(): ChangeBus {
    return this.#changes
  }

  /**
   * Resolves once this instance has joined its cluster (Redis reached, heartbeat written,
   * subscriptions up); at once without `redisUrl`. Requests are served before it; those for
   * sessions on other instances get 503 until then.
   */
  async clusterReady(): Promise<void> {
    if (this.#cluster) await (await this.#cluster).whenConnected()
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

  /**
   * Answers one HTTP request, for mounting sluice in your own `Bun.serve({ fetch })`. Pass Bun's
   * server too, so that SSE streams are exempt from its idle timeout.
   */
  fetch(request: Request, server?: Bun.Server<unknown>): Promise<Response> {
    if (server) {
      this.#mountedOn.set(request, server)
      this.#mountedPort = server.port
    }
    return this.#app.handle(request)
  }

  /**
   * The routes as an Elysia plugin, for `new Elysia().use(...)`: the same sessions and metrics,
   * with the request hooks confined to sluice's own paths.
   */
  get elysia(): ReturnType<typeof createHttpApp> {
    this.#plugin ??= createHttpApp({ ...this.#routes, ownPathsOnly: true })
    return this.#plugin
  }

  /** Registers a resource at a fixed URI; see ResourceRegistry.resource. */
  resource(uri: string, meta: ResourceMeta, read: ResourceReader): this {
    this.resources.resource(uri, meta, read)
    return this
  }

  /** Registers a resource template (RFC 6570, `{var}`), with completion for its variables. */
  resourceTemplate(uriTemplate: string, meta: ResourceTemplateMeta, read: TemplateReader): this {
    this.resources.resourceTemplate(uriTemplate, meta, read)
    return this
  }

  /** Registers a prompt whose TypeBox `args` are published and validate `prompts/get`. */
  prompt<S extends TObject>(
    name: string,
    definition: PromptDefinition<S>,
    handler: PromptHandler<S>,
  ): this {
    this.prompts.prompt(name, definition, handler)
    return this
  }

  /**
   * Removes a tool, resource (by URI), resource template or prompt at run time; initialized
   * sessions get the matching list_changed notification. False when nothing had that name.
   */
  remove(kind: RegistrationKind, name: string): boolean {
    return registrations(this, kind).remove(name)
  }

  /** Enables or disables a registration: a disabled one is neither listed nor callable. */
  setEnabled(kind: RegistrationKind, name: string, enabled: boolean): boolean {
    return registrations(this, kind).setEnabled(name, enabled)
  }

  /**
   * Calls `listener` with the session id when a client sends `notifications/roots/list_changed`
   * (ask again with `ctx.listRoots()`). Returns the function that removes the listener.
   */
  onRootsListChanged(listener: RootsListener): () => void {
    return this.#rootsFeature.onListChanged(listener)
  }

  /** Sends `notifications/resources/updated` to the sessions subscribed to `uri`; how many. */
  notifyResourceUpdated(uri: string): number {
    // 2026-07-28 listen streams that named this URI hear it through the change bus.
    this.changes.publish({ kind: 'resourceUpdated', uri })
    return this.#resourcesFeature.notifyUpdated(uri)
  }

  /**
   * The port the rebinding guard expects in Host, asked on every request: Bun's `server.port` is
   * not a cheap field, so a listener's port is read once.
   */
  #guardPort(): number {
    if (this.#listenPort !== undefined) return this.#listenPort
    if (this.#pluginPort === undefined && this.#plugin) {
      this.#pluginPort = listenerOf(this.#plugin)?.port
    }
    return this.#pluginPort ?? this.#mountedPort ?? this.config.port
  }

  /** The base URL once listening. */
  get url(): URL {
    if (!this.#url) throw new Error('sluice is not listening yet')
    return this.#url
  }

  /**
   * Starts listening on the configured host and port (0: the OS picks). `reusePort` lets other
   * processes bind the same port and share its connections (`--workers`); without it a port in
   * use is an error, never a silent share.
   */
  listen(options: { reusePort?: boolean } = {}): URL {
    this.#app.listen({
      hostname: this.config.host,
      port: this.config.port,
      reusePort: options.reusePort ?? false,
      // Our own limit answers with a JSON-RPC body; Bun's is only a backstop.
      maxRequestBodySize: Math.max(this.config.maxBodyBytes * 2, 16 * 1024 * 1024),
    })
    const server = this.#app.server
    if (!server) throw new Error('sluice: the HTTP server did not start')
    const host = server.hostname?.includes(':') ? `[${server.hostname}]` : server.hostname
    this.#listenPort = server.port
    this.#url = new URL(`http://${host}:${server.port}`)
    this.logger.info('listening', { url: this.#url.href, version: SERVER_VERSION })
    return this.#url
  }

  /**
   * Graceful shutdown: refuse new sessions and requests, let in-flight tool calls finish and their
   * results reach their streams (at most `drainTimeoutMs`), then close every session and the
   * listener. What could not be delivered in time is counted and logged.
   * @returns how many responses were not delivered.
   */
  async shutdown(drainTimeoutMs = this.config.drainTimeoutMs): Promise<number> {
    const sessions = this.sessions
    sessions.beginDrain()
    const server = this.#app.server
    // Stop accepting new connections; the open ones (streams, keep-alive) run on for the drain.
    const listenerClosed = server?.stop(false)
    this.logger.info('drain_started', {
      sessions: sessions.size,
      pendingCalls: sessions.pendingCalls(),
      drainTimeoutMs,
    })
    const deadline = performance.now() + drainTimeoutMs
    // Calls whose answer a client can still receive, and messages an attached reader is taking;
    // a call or stream its client left is not waited for (leaving is allowed, and nobody can come
    // back once the listener is closed), or one abandoned stream would hold the exit.
    const requests = this.requests
    requests.endSubscriptions()
    const drained = () =>
      sessions.reachableCalls() === 0 &&
      sessions.deliverableMessages() === 0 &&
      requests.pendingCalls() === 0 &&
      requests.deliverableMessages() === 0
    while (!drained() && performance.now() < deadline) await Bun.sleep(DRAIN_POLL_MS)
    const calls = sessions.pendingCalls() + requests.pendingCalls()
    // Undelivered: everything still unsent, on streams being read or left by their clients.
    const queued = sessions.unsentMessages() + requests.unsentMessages()
    if (calls) this.metrics.shutdownUndelivered.inc({ kind: 'call' }, calls)
    if (queued) this.metrics.shutdownUndelivered.inc({ kind: 'queued' }, queued)
    const log = calls || queued ? this.logger.warn : this.logger.info
    log('drain_finished', { undeliveredCalls: calls, undeliveredQueued: queued })
    // Ending the sessions ends their streams after what they already took is flushed.
    sessions.closeAll('shutdown')
    requests.closeAll('shutdown')
    await this.#leaveCluster()
    if (listenerClosed) await Promise.race([listenerClosed, Bun.sleep(STREAM_FLUSH_GRACE_MS)])
    await this.#stopListener()
    return calls + queued
  }

  /** Closes every session and the listener at once (no drain). Safe to call again. */
  async stop(): Promise<void> {
    this.sessions.closeAll('shutdown')
    this.requests.closeAll('shutdown')
    await this.#leaveCluster()
    await this.#stopListener()
  }

  async #leaveCluster(): Promise<void> {
    const cluster = await this.#cluster?.catch(() => undefined)
    await cluster?.stop()
  }

  async #stopListener(): Promise<void> {
    if (this.#stopped) return
    this.#stopped = true
    // Mounted in someone else's server (fetch or plugin): that listener is theirs to stop.
    if (!this.#url) return
    await this.#app.stop(true)
  }
}

/**
 * The Bun server the app's requests arrive on: its own once it listens, the parent app's once it is
 * mounted with `use()` (Elysia points a plugin's `getServer` at its parent; the typings keep the
 * method private).
 */
function listenerOf(app: ReturnType<typeof createHttpApp>): Bun.Server<unknown> | null {
  return (app as unknown as { getServer(): Bun.Server<unknown> | null }).getServer()
}

/** Adds `name="value"` to every sample of a Prometheus text exposition. */
function labelEvery(text: string, name: string, value: string): string {
  const label = `${name}="${value}"`
  return text.replace(/^([a-z_:][a-z0-9_:]*)(\{\}|\{)?/gim, (_, metric: string, brace?: string) =>
    brace === '{' ? `${metric}{${label},` : `${metric}{${label}}`,
  )
}

/** The reconnection delay a priming event suggests to Streamable HTTP clients. */
const PRIMING_RETRY_MS = 1_000

function isLoopbackHost(host: string): boolean {
  return host === 'localhost' || host === '::1' || host.startsWith('127.')
}

/** Finished response streams a session keeps for replay after a reconnect. */
const RETAINED_RESPONSE_STREAMS = 16
/** How often shutdown looks whether the drain is complete. */
const DRAIN_POLL_MS = 20
/** How long closed streams get to flush their last bytes before connections are cut. */
const STREAM_FLUSH_GRACE_MS = 1_000
