import { check } from '../check.ts'
import type { OpenedStream } from '../client-session.ts'
import { runPool, withTimeout } from '../pool.ts'
import type { ServerSnapshot } from '../probe.ts'
import {
  ErrorTally,
  figure,
  MIB,
  openStream,
  round,
  type ScenarioContext,
  type ScenarioResult,
} from './context.ts'

export interface HoldParams {
  sessions: number
  /** Connection attempts in flight at once (the ramp). */
  concurrency: number
  timeCapMs: number
}

/**
 * Opens N concurrent sessions, each waiting for its endpoint frame; measures open time and server
 * memory per session; then resets them all and times until the server reports zero sessions.
 */
export async function runHold(ctx: ScenarioContext, params: HoldParams): Promise<ScenarioResult> {
  const before = await ctx.probe.snapshot()
  const streams: OpenedStream[] = []
  const errors = new ErrorTally(ctx)
  ctx.progress.start('hold')
  const opened = await runPool(
    { count: params.sessions, concurrency: params.concurrency, timeCapMs: params.timeCapMs },
    async () => {
      const stream = await openStream(ctx)
      streams.push(stream)
      await withTimeout(stream.opened, ctx.stepTimeoutMs, 'the stream to open')
      ctx.progress.open++
      ctx.progress.done++
    },
    errors.settled,
  )
  // What the server holds per stream: a session (2025), or a listen stream (2026-07-28).
  const heldOf = (s: ServerSnapshot) =>
    ctx.transport === 'modern' ? s.subscriptionsOpen : s.sessionsOpen
  const peak = await ctx.probe.snapshot()
  const counted = heldOf(peak) !== undefined && heldOf(before) !== undefined
  const held = counted ? (heldOf(peak) ?? 0) - (heldOf(before) ?? 0) : undefined

  const closeStarted = performance.now()
  for (const stream of streams) {
    ctx.abandoned.add(stream.ref())
    stream.end()
  }
  ctx.progress.aborted = streams.length
  // Only a server-side count can say when the server has let go of every session.
  let cleanupMs: number | undefined
  if (counted) {
    let now = await ctx.probe.snapshot()
    while (
      (heldOf(now) ?? 0) > (heldOf(before) ?? 0) &&
      performance.now() - closeStarted < params.timeCapMs
    ) {
      await Bun.sleep(20)
      now = await ctx.probe.snapshot()
    }
    if ((heldOf(now) ?? 0) <= (heldOf(before) ?? 0)) {
      cleanupMs = performance.now() - closeStarted
    }
  }
  ctx.progress.stop()

  const rssGrowth =
    peak.rssBytes === undefined || before.rssBytes === undefined
      ? undefined
      : peak.rssBytes - before.rssBytes
  // Per session: by the server's own count, else by the streams the client saw open.
  const perSessionOf = held ?? opened.completed
  const notCounted = `server-side session count: ${ctx.probe.metricsUnavailable ?? 'missing'}`
  return {
    figures: {
      requested: params.sessions,
      opened: opened.completed,
      failed: opened.failed,
      heldByServer: figure(held, 0),
      openSeconds: round(opened.elapsedMs / 1000, 2),
      openPerSecond: Math.round(opened.completed / (opened.elapsedMs / 1000)),
      serverRssPeakMiB: figure(peak.rssBytes === undefined ? undefined : peak.rssBytes / MIB),
      serverMemoryPerSessionKiB: figure(
        rssGrowth === undefined || perSessionOf <= 0 ? undefined : rssGrowth / perSessionOf / 1024,
      ),
      serverFdsAtPeak: figure(peak.fds, 0),
      cleanupMsToZero: figure(cleanupMs, 0),
    },
    checks: [
      check('every session opened', opened.completed, params.sessions, 'sessions', false),
      check(
        'server held every session at once',
        held,
        params.sessions,
        'sessions',
        false,
        notCounted,
      ),
    ],
    notes: errors.notes(),
  }
}
