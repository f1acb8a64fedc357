import { type Counter, countOpenFds, type Histogram, MetricsRegistry } from './metrics.ts'

/** Why a session ended; the label values of `sluice_sessions_closed_total`. */
export type CloseReason =
  | 'client_abort'
  | 'send_deadline'
  | 'queue_full'
  | 'idle_ttl'
  | 'shutdown'
  | 'client_delete'
  | 'memory_budget'
  /** Another instance took the session over while this one's heartbeat had lapsed. */
  | 'taken_over'

/** The counters every layer writes to; gauges are wired in by the composition root. */
export interface ServerMetrics {
  readonly registry: MetricsRegistry
  readonly sessionsOpened: Counter
  readonly sessionsClosed: Counter
  readonly messagesSent: Counter
  readonly messagesDropped: Counter
  readonly keepalivesSent: Counter
  readonly toolCalls: Counter
  readonly httpRejections: Counter
  readonly limitRefusals: Counter
  readonly shutdownUndelivered: Counter
  readonly streamsEvicted: Counter
  readonly repliesAbandoned: Counter
  readonly clientAborts: Counter
  readonly memoryReclaims: Counter
  readonly requestsClosed: Counter
  readonly cancelLatency: Histogram
}

/** Creates the registry with the process metrics and every sluice counter. */
export function createServerMetrics(): ServerMetrics {
  const registry = new MetricsRegistry()
  const metrics: ServerMetrics = {
    registry,
    sessionsOpened: registry.counter('sluice_sessions_opened_total', 'Sessions created.'),
    sessionsClosed: registry.counter(
      'sluice_sessions_closed_total',
      'Sessions closed, by reason (client_abort, send_deadline, queue_full, idle_ttl, shutdown, client_delete, memory_budget).',
    ),
    messagesSent: registry.counter(
      'sluice_messages_sent_total',
      'JSON-RPC messages handed to a client stream.',
    ),
    messagesDropped: registry.counter(
      'sluice_messages_dropped_total',
      'JSON-RPC messages that could not be delivered (queue full or session gone).',
    ),
    keepalivesSent: registry.counter(
      'sluice_keepalives_sent_total',
      'SSE keepalive comments sent on quiet streams.',
    ),
    toolCalls: registry.counter('sluice_tool_calls_total', 'Tool calls, by tool and outcome.'),
    httpRejections: registry.counter(
      'sluice_http_rejections_total',
      'HTTP requests refused by the transport, by status.',
    ),
    limitRefusals: registry.counter(
      'sluice_limit_refusals_total',
      'Work refused by a configured limit (max_sessions, sessions_per_token, memory_budget, calls_per_session, input_requests_per_session, subscriptions_per_session, batch_size, body_bytes), or while draining.',
    ),
    streamsEvicted: registry.counter(
      'sluice_streams_evicted_total',
      'Response streams dropped alone (their session lives on), by reason (send_deadline).',
    ),
    repliesAbandoned: registry.counter(
      'sluice_replies_abandoned_total',
      'Replies sent as one JSON body whose connection ended before the body was taken (the send deadline cut it, or the client left); a small reply answered at once counts as taken when handed to the socket.',
    ),
    clientAborts: registry.counter(
      'sluice_client_aborts_total',
      'Requests whose client left before they were answered, by phase (request_body).',
    ),
    memoryReclaims: registry.counter(
      'sluice_memory_reclaims_total',
      'Full collections run to give memory back after large buffers were freed.',
    ),
    requestsClosed: registry.counter(
      'sluice_stateless_requests_closed_total',
      'MCP 2026-07-28 requests and listen streams ended, by reason (complete, client_abort, send_deadline, queue_full, shutdown).',
    ),
    cancelLatency: registry.histogram(
      'sluice_cancel_latency_seconds',
      'From the moment a 2026-07-28 stream close is seen to the moment its tool call has settled.',
    ),
    shutdownUndelivered: registry.counter(
      'sluice_shutdown_undelivered_total',
      'Responses that shutdown could not deliver within its drain deadline, by kind (call, queued).',
    ),
  }
  for (const reason of [
    'client_abort',
    'send_deadline',
    'queue_full',
    'idle_ttl',
    'shutdown',
    'memory_budget',
  ]) {
    metrics.sessionsClosed.inc({ reason }, 0)
  }
  metrics.streamsEvicted.inc({ reason: 'send_deadline' }, 0)
  metrics.repliesAbandoned.inc(undefined, 0)
  metrics.clientAborts.inc({ phase: 'request_body' }, 0)
  metrics.memoryReclaims.inc(undefined, 0)
  registry.gauge(
    'process_cpu_seconds_total',
    'User and system CPU time spent, in seconds.',
    () => {
      const { user, system } = process.cpuUsage()
      return (user + system) / 1e6
    },
    'counter',
  )
  registry.gauge('process_resident_memory_bytes', 'Resident memory size in bytes.', () =>
    process.memoryUsage.rss(),
  )
  registry.gauge('process_open_fds', 'Open file descriptors.', countOpenFds)
  return metrics
}
