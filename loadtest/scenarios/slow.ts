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

const EVICTED = [
  'sluice_sessions_closed_total{reason="send_deadline"}',
  'sluice_sessions_closed_total{reason="queue_full"}',
] as const

/**
 * Sessions that stop reading while the server is pushed large messages: the server must evict
 * them (send deadline, or queue bound), with its memory bounded meanwhile.
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
  let evicted = [0, 0]
  const pushing = Promise.all(
    sessions.map((session) =>
      session.stallUnderPushes(message, params.messagesPerSession, ctx.stepTimeoutMs).then(() => {
        ctx.progress.done++
      }),
    ),
  )
  for (;;) {
    const now = await ctx.probe.snapshot()
    if (now.rssBytes !== undefined) peakRss = Math.max(peakRss ?? 0, now.rssBytes)
    evicted = EVICTED.map((s, i) => (now.metrics.get(s) ?? 0) - (evictedBefore[i] ?? 0))
    const total = (evicted[0] ?? 0) + (evicted[1] ?? 0)
    ctx.progress.aborted = total
    if (!countsEvictions) break
    if (total >= sessions.length || performance.now() - started > params.evictTimeoutMs) break
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
  const total = countsEvictions ? (evicted[0] ?? 0) + (evicted[1] ?? 0) : undefined
  const noCounts = `eviction counts: ${ctx.probe.metricsUnavailable ?? 'no sluice_sessions_closed_total'}`
  return {
    figures: {
      stalledSessions: sessions.length,
      messageKiB: round(params.messageBytes / 1024),
      evictedBySendDeadline: countsEvictions ? (evicted[0] ?? 0) : 'n/a',
      evictedByQueueFull: countsEvictions ? (evicted[1] ?? 0) : 'n/a',
      secondsToEvictAll: figure(countsEvictions ? evictMs / 1000 : undefined, 2),
      serverRssPeakGrowthMiB: figure(growthMiB),
    },
    checks: [
      check('stalled readers evicted', total, params.sessions, 'sessions', false, noCounts),
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
