import { openClientSession, type TransportKind } from './client-session.ts'
import type { ServerProbe, ServerSnapshot } from './probe.ts'
import type { Target } from './target.ts'

/** One check of a verdict: what was measured against what it had to be. */
export interface Check {
  name: string
  passed: boolean
  value: number
  limit: number
  unit: string
  detail: string
}

export interface Verdict {
  passed: boolean
  settleMs: number
  checks: Check[]
}

export interface VerdictOptions {
  settleTimeoutMs: number
  idleWindowMs: number
  /** CPU over the idle window, in percent of one core. */
  maxIdleCpuPercent: number
  memoryToleranceBytes: number
  fdTolerance: number
}

export function check(
  name: string,
  value: number,
  limit: number,
  unit: string,
  okIfAtMost = true,
): Check {
  const passed = Number.isFinite(value) && (okIfAtMost ? value <= limit : value >= limit)
  const detail = passed
    ? `${fmt(value)} ${unit} (limit ${okIfAtMost ? '<=' : '>='} ${fmt(limit)})`
    : `${fmt(value)} ${unit}, ${okIfAtMost ? 'over' : 'under'} the limit of ${fmt(limit)} by ${fmt(Math.abs(value - limit))}`
  return { name, passed, value, limit, unit, detail }
}

const fmt = (n: number) => (Number.isInteger(n) ? String(n) : n.toFixed(2))

/**
 * After a scenario: waits (bounded) for the server to settle back to its baseline, then checks
 * sessions and streams, idle CPU, memory, fds (local targets) and liveness.
 */
export async function judge(
  target: Target,
  transport: TransportKind,
  probe: ServerProbe,
  baseline: ServerSnapshot,
  options: VerdictOptions,
  extra: Check[] = [],
): Promise<Verdict> {
  const settleStarted = performance.now()
  let after = await probe.snapshot()
  // Settled: sessions and streams at baseline, and (local targets) fds within tolerance once the
  // server has closed the idle keep-alive connections our POSTs left (Bun's idle timeout, 10 s).
  const unsettled = (s: ServerSnapshot) =>
    s.sessionsOpen > baseline.sessionsOpen ||
    s.streamsOpen > baseline.streamsOpen ||
    (baseline.fds >= 0 && extraFds(baseline, s) > options.fdTolerance)
  while (unsettled(after) && performance.now() - settleStarted < options.settleTimeoutMs) {
    await Bun.sleep(100)
    after = await probe.snapshot()
  }
  const settleMs = performance.now() - settleStarted

  const cpuBefore = await probe.cpuSeconds()
  await Bun.sleep(options.idleWindowMs)
  const cpuAfter = await probe.cpuSeconds()
  const idleCpuPercent = ((cpuAfter - cpuBefore) / (options.idleWindowMs / 1000)) * 100
  after = await probe.snapshot()

  const checks = [
    ...extra,
    check('sessions back to baseline', after.sessionsOpen, baseline.sessionsOpen, 'sessions'),
    check('SSE streams back to baseline', after.streamsOpen, baseline.streamsOpen, 'streams'),
    check(
      `idle CPU over ${options.idleWindowMs / 1000} s`,
      idleCpuPercent,
      options.maxIdleCpuPercent,
      '% of a core',
    ),
    check(
      'memory back within tolerance',
      (after.rssBytes - baseline.rssBytes) / 2 ** 20,
      options.memoryToleranceBytes / 2 ** 20,
      'MiB above baseline',
    ),
  ]
  if (baseline.fds >= 0 && after.fds >= 0) {
    checks.push(
      check(
        'file descriptors back to baseline',
        extraFds(baseline, after),
        options.fdTolerance,
        'fds above baseline (our open keep-alive connections aside)',
      ),
    )
  }
  checks.push(await liveness(target, transport))
  return { passed: checks.every((c) => c.passed), settleMs, checks }
}

/** Server fds above baseline that no connection of ours explains. */
function extraFds(baseline: ServerSnapshot, now: ServerSnapshot): number {
  return now.fds - now.ownConnections - (baseline.fds - baseline.ownConnections)
}

/** A fresh session initializes and echoes. */
async function liveness(target: Target, transport: TransportKind): Promise<Check> {
  const name = 'liveness: a fresh session initializes and echoes'
  const started = performance.now()
  try {
    const session = await openClientSession(transport, target.base, undefined, LIVENESS_TIMEOUT_MS)
    try {
      const reply = await session.request(
        'tools/call',
        { name: 'echo', arguments: { message: 'alive' } },
        LIVENESS_TIMEOUT_MS,
      )
      const text = (reply.message.result?.content as Array<{ text?: string }> | undefined)?.[0]
        ?.text
      if (text !== 'alive') throw new Error(`echo answered ${JSON.stringify(reply.message)}`)
    } finally {
      session.end()
    }
    // Let the server see the probe leave, so the next baseline is clean.
    await Bun.sleep(50)
    return check(name, performance.now() - started, LIVENESS_TIMEOUT_MS, 'ms')
  } catch (err) {
    return {
      name,
      passed: false,
      value: Number.NaN,
      limit: LIVENESS_TIMEOUT_MS,
      unit: 'ms',
      detail: `failed: ${(err as Error).message}`,
    }
  }
}

const LIVENESS_TIMEOUT_MS = 10_000
