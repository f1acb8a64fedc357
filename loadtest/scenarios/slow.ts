import { check } from '../check.ts'
import {
  figure,
  MIB,
  openMcpSessions,
  round,
  type ScenarioContext,
  type ScenarioResult,
} from './context.ts'

export interface SlowParams {
  sessions: number
  messageBytes: number
  messagesPerSession: number
  /** How long to wait for the server to evict every stalled reader. */
  evictTimeoutMs: number
  maxRssGrowthMiB: number
}

/** sluice's counts of a stalled reader evicted: a session, one of its streams, or a JSON reply. */
const EVICTED = [
  'sluice_sessions_closed_total{reason="send_deadline"}',
  'sluice_sessions_closed_total{reason="queue_full"}',
  'sluice_sessions_closed_total{reason="memory_budget"}',
  'sluice_streams_evicted_total{reason="send_deadline"}',
  'sluice_replies_abandoned_total',
] as const

/**
 * Sessions that stop reading while the server is pushed large messages: the server must evict
 * them (send deadline, queue bound or its buffer budget), with its memory bounded meanwhile. Over
 * legacy SSE the session's stream stalls; over Streamable HTTP two replies per session do, an SSE
 * stream and a JSON body.
 */
export async function runSlow(ctx: ScenarioContext, params: SlowParams): Promise<ScenarioResult> {
  const before = await ctx.probe.snapshot()
  // Evictions are only visible in sluice's own counters.
  const countsEvictions = before.sessionsOpen !== undefined
  const evictedBefore = EVICTED.map((s) => before.metrics.get(s) ?? 0)
  ctx.progress.start('slow')
  const sessions = await openMcpSessions(ctx, params.sessions, params.evictTimeoutMs, true)
  const message = 'x'.repeat(params.messageBytes)
  let peakRss = before.rssBytes
  const started = performance.now()
  let evicted: number[] = []
  const stalledReplies = sessions.length * (ctx.transport === 'sse' ? 1 : 2)
  // Legacy: every stalled session is evicted. Streamable HTTP: a reply may also leave whole into
  // the kernel's socket buffers (nothing left to evict), so what counts is that the server holds
  // nothing for the stalled replies at the end, having evicted what it had to.
  const legacy = ctx.transport === 'sse'
  const expected = legacy ? sessions.length : 1
  const buffered = (metrics: ReadonlyMap<string, number>) =>
    (metrics.get('sluice_buffered_bytes') ?? 0) - (before.metrics.get('sluice_buffered_bytes') ?? 0)
  let held: number | undefined
  let pushed = false
  const sum = (counts: number[]) => counts.reduce((a, b) => a + b, 0)
  const pushing = Promise.all(
    sessions.map((session) =>
      session.stallUnderPushes(message, params.messagesPerSession, ctx.stepTimeoutMs).then(() => {
        ctx.progress.done++
      }),
    ),
  ).finally(() => {
    pushed = true
  })
  for (;;) {
    const now = await ctx.probe.snapshot()
    if (now.rssBytes !== undefined) peakRss = Math.max(peakRss ?? 0, now.rssBytes)
    evicted = EVICTED.map((s, i) => (now.metrics.get(s) ?? 0) - (evictedBefore[i] ?? 0))
    const total = sum(evicted)
    ctx.progress.aborted = total
    if (!countsEvictions) break
    held = buffered(now.metrics)
    const released = pushed && now.streamsOpen === 0 && held <= 0
    const allSeen = legacy ? total >= expected : total >= expected && released
    if (allSeen || performance.now() - started > params.evictTimeoutMs) break
    await Bun.sleep(100)
  }
  const evictMs = performance.now() - started
  await pushing
  for (const session of sessions) {
    ctx.abandoned.add(session.ref)
    session.end()
  }
  ctx.progress.stop()
  const growthMiB =
    peakRss === undefined || before.rssBytes === undefined
      ? undefined
      : (peakRss - before.rssBytes) / MIB
  const total = countsEvictions ? sum(evicted) : undefined
  const count = (i: number) => (countsEvictions ? (evicted[i] ?? 0) : 'n/a')
  const noCounts = `eviction counts: ${ctx.probe.metricsUnavailable ?? 'no sluice_sessions_closed_total'}`
  return {
    figures: {
      stalledSessions: sessions.length,
      stalledReplies,
      messageKiB: round(params.messageBytes / 1024),
      sessionsEvictedBySendDeadline: count(0),
      sessionsEvictedByQueueFull: count(1),
      sessionsEvictedByMemoryBudget: count(2),
      streamsEvictedBySendDeadline: count(3),
      jsonRepliesCut: count(4),
      secondsToEvictAll: figure(countsEvictions ? evictMs / 1000 : undefined, 2),
      serverRssPeakGrowthMiB: figure(growthMiB),
    },
    checks: [
      check('stalled readers evicted', total, expected, 'evictions', false, noCounts),
      ...(legacy
        ? []
        : [
            check(
              'bytes still held for stalled replies at the end',
              countsEvictions && held !== undefined ? round(Math.max(held, 0) / MIB) : undefined,
              0,
              'MiB',
              true,
              noCounts,
            ),
          ]),
      check(
        'server memory while stalled',
        growthMiB,
        params.maxRssGrowthMiB,
        'MiB peak growth',
        true,
        'pass --target-pid (a local server) or export process_* metrics',
      ),
    ],
    notes: [],
  }
}
