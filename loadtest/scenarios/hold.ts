import type { OpenedStream } from '../client-session.ts'
import { runPool, withTimeout } from '../pool.ts'
import { check } from '../verdict.ts'
import {
  ErrorTally,
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
      await withTimeout(stream.connection.firstEvent, ctx.stepTimeoutMs, 'the first event')
      ctx.progress.open++
      ctx.progress.done++
    },
    errors.settled,
  )
  const peak = await ctx.probe.snapshot()
  const held = peak.sessionsOpen - before.sessionsOpen

  const closeStarted = performance.now()
  for (const stream of streams) stream.end()
  ctx.progress.aborted = streams.length
  let now = await ctx.probe.snapshot()
  while (
    now.sessionsOpen > before.sessionsOpen &&
    performance.now() - closeStarted < params.timeCapMs
  ) {
    await Bun.sleep(20)
    now = await ctx.probe.snapshot()
  }
  const cleanupMs = performance.now() - closeStarted
  ctx.progress.stop()

  const memPerSessionKiB = held > 0 ? (peak.rssBytes - before.rssBytes) / held / 1024 : Number.NaN
  return {
    figures: {
      requested: params.sessions,
      opened: opened.completed,
      failed: opened.failed,
      heldByServer: held,
      openSeconds: round(opened.elapsedMs / 1000, 2),
      openPerSecond: Math.round(opened.completed / (opened.elapsedMs / 1000)),
      serverRssPeakMiB: round(peak.rssBytes / MIB),
      serverMemoryPerSessionKiB: round(memPerSessionKiB),
      serverFdsAtPeak: peak.fds,
      cleanupMsToZero: Math.round(cleanupMs),
    },
    checks: [
      check('every session opened', opened.completed, params.sessions, 'sessions', false),
      check('server held every session at once', held, params.sessions, 'sessions', false),
    ],
    notes: errors.notes(),
  }
}
