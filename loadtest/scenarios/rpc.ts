import { check } from '../check.ts'
import {
  figure,
  openMcpSessions,
  round,
  type ScenarioContext,
  type ScenarioResult,
} from './context.ts'

export interface RpcParams {
  sessions: number
  durationMs: number
  /** Bound on calls per session. */
  maxCallsPerSession: number
}

/** The q-quantile (0..1) of sorted values, nearest rank. */
export function quantile(sorted: readonly number[], q: number): number {
  if (sorted.length === 0) return Number.NaN
  return sorted[Math.min(sorted.length - 1, Math.max(0, Math.ceil(q * sorted.length) - 1))]!
}

/** S sessions each initialize, then call echo in a loop; throughput and latency percentiles. */
export async function runRpc(ctx: ScenarioContext, params: RpcParams): Promise<ScenarioResult> {
  const latencies: number[] = []
  let errors = 0
  ctx.progress.start('rpc')
  const sessions = await openMcpSessions(ctx, params.sessions, params.durationMs)
  const started = performance.now()
  const deadline = started + params.durationMs
  await Promise.all(
    sessions.map(async (session, s) => {
      for (let i = 0; i < params.maxCallsPerSession && performance.now() < deadline; i++) {
        try {
          const reply = await session.request(
            'tools/call',
            { name: 'echo', arguments: { message: `s${s} call ${i}` } },
            ctx.stepTimeoutMs,
          )
          if (reply.message.error) throw new Error(reply.message.error.message)
          latencies.push(reply.latencyMs)
          ctx.progress.done++
        } catch {
          errors++
          ctx.progress.errors++
        }
      }
    }),
  )
  const elapsedMs = performance.now() - started
  for (const session of sessions) {
    ctx.abandoned.add(session.ref)
    session.end()
  }
  ctx.progress.stop()
  latencies.sort((a, b) => a - b)
  return {
    figures: {
      sessions: sessions.length,
      calls: latencies.length,
      errors,
      seconds: round(elapsedMs / 1000, 2),
      callsPerSecond: Math.round(latencies.length / (elapsedMs / 1000)),
      p50Ms: figure(quantile(latencies, 0.5), 2),
      p90Ms: figure(quantile(latencies, 0.9), 2),
      p99Ms: figure(quantile(latencies, 0.99), 2),
      maxMs: figure(latencies[latencies.length - 1], 2),
    },
    checks: [
      check('every rpc session initialized', sessions.length, params.sessions, 'sessions', false),
      check('rpc calls that failed', errors, 0, 'calls'),
    ],
    notes: [],
  }
}
