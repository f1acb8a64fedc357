import { type Counter, countOpenFds, MetricsRegistry } from './metrics.ts'

/** Why a session ended; the label values of `sluice_sessions_closed_total`. */
export type CloseReason =
  | 'client_abort'
  | 'send_deadline'
  | 'queue_full'
  | 'idle_ttl'
  | 'shutdown'
  | 'client_delete'

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
}

/** Creates the registry with the process metrics and every sluice counter. */
export function createServerMetrics(): ServerMetrics {
  const registry = new MetricsRegistry()
  const metrics: ServerMetrics = {
    registry,
    sessionsOpened: registry.counter('sluice_sessions_opened_total', 'Sessions created.'),
    sessionsClosed: registry.counter(
      'sluice_sessions_closed_total',
      'Sessions closed, by reason (client_abort, send_deadline, queue_full, idle_ttl, shutdown, client_delete).',
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
      'Work refused by a configured limit (max_sessions, calls_per_session, body_bytes), or while draining.',
    ),
    shutdownUndelivered: registry.counter(
      'sluice_shutdown_undelivered_total',
      'Responses that shutdown could not deliver within its drain deadline, by kind (call, queued).',
    ),
  }
  for (const reason of ['client_abort', 'send_deadline', 'queue_full', 'idle_ttl', 'shutdown']) {
    metrics.sessionsClosed.inc({ reason }, 0)
  }
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
