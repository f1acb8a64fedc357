import type { TObject } from '@sinclair/typebox'
import { type Config, DEFAULT_CONFIG, SETTINGS, validateConfig } from './config.ts'
import type { Logger } from './observability/log.ts'
import type { PromptDefinition, PromptHandler } from './prompts/types.ts'
import type { ChangeBus } from './protocol/change-bus.ts'
import type { CachePolicy } from './protocol/modern-results.ts'
import type {
  ResourceMeta,
  ResourceReader,
  ResourceTemplateMeta,
  TemplateReader,
} from './resources/types.ts'
import type { RootsListener } from './roots/feature.ts'
import { type RegistrationKind, SluiceServer } from './server.ts'
import type { ToolDefinition, ToolHandler } from './tools/types.ts'

/** `createServer`'s options: the server's identity, and any setting of the configuration table. */
export interface CreateServerOptions extends Partial<Config> {
  /** `serverInfo.name` that `initialize` answers. */
  name: string
  /** `serverInfo.version` that `initialize` answers. */
  version: string
  /** Also register the demo tools echo, add and sleep (default false). */
  demoTools?: boolean
  /** Where logs go (default JSON lines on stdout at `logLevel`). */
  logger?: Logger
  /** Where tool-list changes travel to 2026-07-28 listen streams (default: in-process). */
  changeBus?: ChangeBus
  /** Caching hints of 2026-07-28 results per method (default: `cacheTtlMs`, `cacheScope`). */
  cache?: Partial<CachePolicy>
}

/** Where a listening server can be reached. */
export interface ListeningAddress {
  /** Base URL: Streamable HTTP is at `new URL('/mcp', url)`, legacy SSE at `/sse`. */
  url: URL
  port: number
}

/**
 * An MCP server: register tools, resources and prompts, then either `listen()`, or mount it in your own server with
 * `fetch` (Bun.serve) or `plugin()` (Elysia). Every way serves the same sessions, limits and
 * /metrics.
 */
export class Sluice implements AsyncDisposable {
  readonly #server: SluiceServer

  /** @internal use createServer */
  constructor(server: SluiceServer) {
    this.#server = server
  }

  /** Registers a tool: its TypeBox input schema is both the published inputSchema and the validator. */
  tool<S extends TObject>(
    name: string,
    definition: ToolDefinition<S>,
    handler: ToolHandler<S>,
  ): this {
    this.#server.tool(name, definition, handler)
    return this
  }

  /** Registers a resource at a fixed URI; its read returns text, bytes or the full contents. */
  resource(uri: string, meta: ResourceMeta, read: ResourceReader): this {
    this.#server.resource(uri, meta, read)
    return this
  }

  /** Registers a resource template (`users://{id}/profile`), with completion for its variables. */
  resourceTemplate(uriTemplate: string, meta: ResourceTemplateMeta, read: TemplateReader): this {
    this.#server.resourceTemplate(uriTemplate, meta, read)
    return this
  }

  /** Registers a prompt: its TypeBox `args` are both the published arguments and the validator. */
  prompt<S extends TObject>(
    name: string,
    definition: PromptDefinition<S>,
    handler: PromptHandler<S>,
  ): this {
    this.#server.prompt(name, definition, handler)
    return this
  }

  /** Removes a registration at run time; sessions get list_changed. False when there was none. */
  remove(kind: RegistrationKind, name: string): boolean {
    return this.#server.remove(kind, name)
  }

  /** Enables or disables a registration: a disabled one is neither listed nor callable. */
  setEnabled(kind: RegistrationKind, name: string, enabled: boolean): boolean {
    return this.#server.setEnabled(kind, name, enabled)
  }

  /** Hears `notifications/roots/list_changed` (the session id); returns the unsubscribe. */
  onRootsListChanged(listener: RootsListener): () => void {
    return this.#server.onRootsListChanged(listener)
  }

  /** Sends `notifications/resources/updated` to the sessions subscribed to `uri`; how many. */
  notifyResourceUpdated(uri: string): number {
    return this.#server.notifyResourceUpdated(uri)
  }

  /** The validated configuration this server runs with. */
  get config(): Readonly<Config> {
    return this.#server.config
  }

  /**
   * Resolves once this instance has joined its cluster (`redisUrl`: Redis reached, heartbeat and
   * subscriptions up); at once without one. It keeps trying while Redis is away.
   */
  clusterReady(): Promise<void> {
    return this.#server.clusterReady()
  }

  /** Listens on the configured host and port (port 0: the OS picks one). */
  async listen(): Promise<ListeningAddress> {
    const url = this.#server.listen()
    return { url, port: Number(url.port) }
  }

  /**
   * Answers one request: `Bun.serve({ fetch: server.fetch })`. Bound, so it can be passed as is.
   * Bun's server (the second argument Bun passes) exempts SSE streams from its idle timeout.
   */
  readonly fetch = (request: Request, server?: Bun.Server<unknown>): Promise<Response> =>
    this.#server.fetch(request, server)

  /**
   * The MCP routes (`/mcp`, `/sse`, `/message`, `/notifications`, `/health`, `/metrics`) as an
   * Elysia plugin: `new Elysia().use(server.plugin())`.
   */
  plugin(): SluiceServer['elysia'] {
    return this.#server.elysia
  }

  /**
   * Graceful: refuses new work, lets tool calls in flight finish and be delivered (at most
   * `drainTimeoutMs`), then closes every session and the listener.
   * @returns how many responses could not be delivered.
   */
  shutdown(drainTimeoutMs?: number): Promise<number> {
    return this.#server.shutdown(drainTimeoutMs)
  }

  /** Closes every session and the listener at once. Safe to call again. */
  stop(): Promise<void> {
    return this.#server.stop()
  }

  [Symbol.asyncDispose](): Promise<void> {
    return this.stop()
  }
}

/**
 * Creates an MCP server. Settings not given take their defaults (`bun server/main.ts --help`
 * lists them); a bad one throws a ConfigError naming it.
 */
export function createServer(options: CreateServerOptions): Sluice {
  const { name, version, demoTools = false, logger, changeBus, cache } = options
  if (!name || !version) throw new TypeError('createServer: name and version are required')
  const settings: Record<string, unknown> = { ...DEFAULT_CONFIG }
  for (const { key } of SETTINGS) {
    if (options[key] !== undefined) settings[key] = options[key]
  }
  const config = validateConfig(settings)
  return new Sluice(
    new SluiceServer(config, {
      builtinTools: demoTools,
      serverInfo: { name, version },
      ...(logger ? { logger } : {}),
      ...(changeBus ? { changeBus } : {}),
      ...(cache ? { cache } : {}),
    }),
  )
}
