import { check } from '../check.ts'
import { ModernMcpClient } from '../modern-client.ts'
import { runPool, withTimeout } from '../pool.ts'
import { pickWeighted, seededRandom } from '../random.ts'
import { type CancelLatency, measureCancelLatency } from './cancel-latency.ts'
import {
  ErrorTally,
  figure,
  openMcpSession,
  openStream,
  round,
  type ScenarioContext,
  type ScenarioResult,
} from './context.ts'

/** The moments at which a storm connection goes away. */
export const STORM_PHASES = {
  /** TCP connected, no request sent: reset. */
  before_request: 1,
  /** Request sent, reset before reading the response headers. */
  before_headers: 1,
  /** Stream open (legacy: endpoint frame; Streamable HTTP: 200 event-stream head): reset. */
  after_endpoint: 1,
  /** Initialized, a `sleep` call in flight: reset. */
  sleep_in_flight: 1,
  /** First event received, then a polite close (FIN) mid-stream. */
  graceful_close: 1,
} as const
export type StormPhase = keyof typeof STORM_PHASES

export interface StormParams {
  connections: number
  concurrency: number
  seed: number
  timeCapMs: number
}

/** The phase of every connection, decided up front from the seed so a run can be replayed. */
export function planStorm(connections: number, seed: number): StormPhase[] {
  const random = seededRandom(seed)
  return Array.from({ length: connections }, () => pickWeighted(random, STORM_PHASES))
}

/** N connections, each aborted abruptly in a randomised phase; mixed, from a printed seed. */
export async function runStorm(ctx: ScenarioContext, params: StormParams): Promise<ScenarioResult> {
  const plan = planStorm(params.connections, params.seed)
  const done = Object.fromEntries(Object.keys(STORM_PHASES).map((p) => [p, 0])) as Record<
    StormPhase,
    number
  >
  const errors = new ErrorTally(ctx)
  const metricsBefore = ctx.transport === 'modern' ? await ctx.probe.metrics() : undefined
  ctx.progress.start('storm')
  const result = await runPool(
    { count: plan.length, concurrency: params.concurrency, timeCapMs: params.timeCapMs },
    async (i) => {
      const phase = plan[i]!
      await abortInPhase(ctx, phase)
      done[phase]++
      ctx.progress.aborted++
      ctx.progress.done++
    },
    errors.settled,
  )
  ctx.progress.stop()
  // The 2026 era's promise, measured: how soon a client's close cancels its call.
  const latency: Record<string, CancelLatency | undefined> = {}
  if (ctx.transport === 'modern') {
    for (const kind of ['sse', 'json'] as const) {
      latency[kind] = await measureCancelLatency(ctx.target.base, kind, CANCEL_SAMPLES).catch(
        (err: Error) => {
          errors.settled(false, err)
          return undefined
        },
      )
    }
  }
  const serverSide = metricsBefore
    ? cancelSeenByServer(metricsBefore, await ctx.probe.metrics())
    : {}
  const latencyFigures = Object.fromEntries(
    Object.entries(latency).flatMap(([kind, l]) => [
      [`cancelMsP50_${kind}`, figure(l?.p50Ms, 2)],
      [`cancelMsMax_${kind}`, figure(l?.maxMs, 2)],
    ]),
  )
  return {
    figures: {
      seed: params.seed,
      connections: params.connections,
      aborted: result.completed,
      errors: result.failed,
      seconds: round(result.elapsedMs / 1000, 2),
      perSecond: Math.round(result.completed / (result.elapsedMs / 1000)),
      ...Object.fromEntries(Object.entries(done).map(([k, v]) => [`phase_${k}`, v])),
      ...latencyFigures,
      ...serverSide,
    },
    checks: [
      check(
        'every storm connection ran its phase',
        result.completed,
        params.connections,
        'connections',
        false,
      ),
    ],
    notes: errors.notes(),
  }
}

/**
 * What sluice's /metrics say of the storm's cancellations: sleep calls cancelled, and the mean
 * time from a close seen to the cancelled call's end (n/a on a server without those series).
 */
function cancelSeenByServer(
  before: Map<string, number>,
  after: Map<string, number>,
): Record<string, number | 'n/a'> {
  const delta = (series: string) => {
    const a = after.get(series)
    return a === undefined ? undefined : a - (before.get(series) ?? 0)
  }
  const cancelled = delta('sluice_tool_calls_total{outcome="cancelled",tool="sleep"}')
  const sum = delta('sluice_cancel_latency_seconds_sum')
  const count = delta('sluice_cancel_latency_seconds_count')
  return {
    serverCallsCancelled: figure(cancelled, 0),
    serverCloseToCallEndMsAvg: figure(
      sum === undefined || !count ? undefined : (sum / count) * 1000,
      3,
    ),
  }
}

/** Close-to-cancellation samples of each kind, taken after a modern storm. */
const CANCEL_SAMPLES = 50

async function abortInPhase(ctx: ScenarioContext, phase: StormPhase): Promise<void> {
  if (ctx.transport === 'modern' && phase === 'before_headers') {
    // A 2026 call answered in auto mode sends no byte before its result: reset while it runs.
    const params = { name: 'sleep', arguments: { seconds: 30 } }
    const connection = new ModernMcpClient(ctx.targets.nextBase()).open(
      'tools/call',
      params,
      ctx.sources.take(),
    )
    try {
      await withTimeout(connection.connected, ctx.stepTimeoutMs, 'the TCP connection')
    } finally {
      connection.reset()
    }
    return
  }
  if (phase === 'sleep_in_flight') {
    const session = await openMcpSession(ctx)
    ctx.abandoned.add(session.ref)
    await session.callAndVanish('sleep', { seconds: 30 }, ctx.stepTimeoutMs)
    return
  }
  const stream = await openStream(ctx, phase !== 'before_request')
  const { connection } = stream
  try {
    await withTimeout(connection.connected, ctx.stepTimeoutMs, 'the TCP connection')
    if (phase === 'before_request' || phase === 'before_headers') return
    await withTimeout(stream.opened, ctx.stepTimeoutMs, 'the stream to open')
    if (phase === 'graceful_close') {
      // What EventSource.close() does: FIN, then the socket is closed, not reset; a polite
      // Streamable HTTP client then DELETEs its session.
      connection.end()
      connection.socket.destroy()
      stream.end()
      return
    }
  } finally {
    ctx.abandoned.add(stream.ref())
    stream.vanish()
  }
}
