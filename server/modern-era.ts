import type { Config } from './config.ts'
import type { Logger } from './observability/log.ts'
import type { ServerMetrics } from './observability/server-metrics.ts'
import type { ChangeBus } from './protocol/change-bus.ts'
import type { Dispatcher } from './protocol/dispatcher.ts'
import { type CachePolicy, uniformCachePolicy } from './protocol/modern-results.ts'
import { RequestStateSigner } from './protocol/request-state.ts'
import { SessionRefusedError } from './session/errors.ts'
import type { SessionRegistry } from './session/registry.ts'
import { RequestRegistry } from './session/request-registry.ts'
import type { ToolRegistry } from './tools/registry.ts'
import { ListenStreams } from './transport/listen-stream.ts'
import { StatelessHttpTransport } from './transport/stateless-http.ts'

export interface ModernEraDeps {
  config: Config
  metrics: ServerMetrics
  logger: Logger
  sessions: SessionRegistry
  dispatcher: Dispatcher
  tools: ToolRegistry
  serverInfo: { name: string; version: string }
  /** Where list changes arrive (the features publish them); listen streams subscribe here. */
  changes: ChangeBus
  cache?: Partial<CachePolicy> | undefined
}

/** The MCP 2026-07-28 era, wired: its requests and listen streams, and its transport. */
export interface ModernEra {
  requests: RequestRegistry
  transport: StatelessHttpTransport
}

/**
 * Wires the 2026-07-28 era beside the sessions of the 2025 one: the same buffer budget and
 * metrics registry, the same dispatcher and tools; list changes arrive on the change bus.
 */
export function createModernEra(deps: ModernEraDeps): ModernEra {
  const { config, metrics, logger, sessions, dispatcher, tools, serverInfo } = deps
  const requests = new RequestRegistry({
    limits: {
      maxQueueMessages: config.maxQueueMessages,
      maxQueueBytes: config.maxQueueBytes,
      keepaliveMs: config.keepaliveMs,
      sendDeadlineMs: config.sendDeadlineMs,
    },
    budget: sessions.budget,
    metrics,
    maxSubscriptions: config.maxSubscriptions,
  })
  metrics.registry.gauge(
    'sluice_requests_in_flight',
    'MCP 2026-07-28 requests being answered now (stateless path).',
    () => requests.inFlight,
  )
  metrics.registry.gauge(
    'sluice_subscriptions_open',
    'subscriptions/listen streams open now.',
    () => requests.subscriptionsOpen,
  )
  const { changes } = deps
  const cache = {
    ...uniformCachePolicy({ ttlMs: config.cacheTtlMs, cacheScope: config.cacheScope }),
    ...deps.cache,
  }
  const listenQueueFull = metrics.registry.counter(
    'sluice_listen_queue_full_total',
    'Listen streams ended early, with their response, because the reader fell a queue behind.',
  )
  listenQueueFull.inc({}, 0)
  const listen = new ListenStreams({
    requests,
    bus: changes,
    logger,
    serverInfo,
    cache,
    supported: new Set(['toolsListChanged', 'promptsListChanged', 'resourcesListChanged']),
    limits: { maxQueueMessages: config.maxQueueMessages, maxQueueBytes: config.maxQueueBytes },
    onQueueFull: () => listenQueueFull.inc(),
  })
  const transport = new StatelessHttpTransport({
    requests,
    dispatcher,
    metrics,
    logger,
    serverInfo,
    cache,
    responseMode: config.responseMode,
    toolSchema: (name) => tools.descriptor(name)?.inputSchema,
    admit: () => {
      sessions.admitRequests(1)
      // Cancelled handlers that ignore their signal still run: they count until they return.
      if (dispatcher.callsRunning >= config.maxCallsInFlight) {
        metrics.limitRefusals.inc({ limit: 'calls_in_flight' })
        throw new SessionRefusedError(
          'calls_in_flight',
          `Service Unavailable: ${dispatcher.callsRunning} calls are running, this server's limit; retry later`,
        )
      }
    },
    requestStates: new RequestStateSigner(config.requestStateKey || undefined),
    maxRequestStateBytes: Math.floor(config.maxBodyBytes / 2),
    sendDeadlineMs: config.sendDeadlineMs,
    listen: (_request, message, state, connection) => listen.open(message, state, connection),
  })
  return { requests, transport }
}
