import { type Check, check } from './check.ts'
import type { TransportKind } from './client-session.ts'
import { liveness, reapCheck } from './outside-checks.ts'
import type { ServerProbe, ServerSnapshot } from './probe.ts'
import type { SessionRef } from './session-check.ts'
import type { TargetSet } from './target.ts'

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
  /** Per-request bound of the reap check and the liveness probe. */
  stepTimeoutMs: number
}

const minus = (a: number | undefined, b: number | undefined) =>
  a === undefined || b === undefined ? undefined : a - b

/**
 * After a scenario: waits (bounded) for the server to settle back to its baseline, then checks
 * what can be seen: sessions and streams (sluice /metrics), idle CPU, memory and fds (/proc or
 * metrics), whether the sessions the scenario left are gone (asked of the server itself), and
 * liveness. What cannot be seen is reported as not available, never guessed.
 */
export async function judge(
  targets: TargetSet,
  transport: TransportKind,
  probe: ServerProbe,
  baseline: ServerSnapshot,
  options: VerdictOptions,
  extra: Check[] = [],
  abandoned: readonly SessionRef[] = [],
): Promise<Verdict> {
  const settleStarted = performance.now()
  let after = await probe.snapshot()
  // Settled: sessions and streams at baseline, and (local targets) fds within tolerance once the
  // server has closed the idle keep-alive connections our POSTs left (Bun's idle timeout, 10 s).
  const above = (now: number | undefined, base: number | undefined) =>
    now !== undefined && base !== undefined && now > base
  const unsettled = (s: ServerSnapshot) =>
    above(s.sessionsOpen, baseline.sessionsOpen) ||
    above(s.streamsOpen, baseline.streamsOpen) ||
    above(s.requestsInFlight, baseline.requestsInFlight) ||
    above(s.subscriptionsOpen, baseline.subscriptionsOpen) ||
    above(extraFds(baseline, s), options.fdTolerance)
  while (unsettled(after) && performance.now() - settleStarted < options.settleTimeoutMs) {
    await Bun.sleep(100)
    after = await probe.snapshot()
  }
  // Without a server-side session count nothing says when the server is done reaping: it gets
  // the whole settle time before the reap check asks about the sessions left behind.
  const sessionsCounted = after.sessionsOpen !== undefined && baseline.sessionsOpen !== undefined
  if (!sessionsCounted && abandoned.length > 0) {
    const rest = options.settleTimeoutMs - (performance.now() - settleStarted)
    if (rest > 0) await Bun.sleep(rest)
  }
  const settleMs = performance.now() - settleStarted

  const cpuBefore = await probe.cpuSeconds()
  await Bun.sleep(options.idleWindowMs)
  const cpuAfter = await probe.cpuSeconds()
  const cpuUsed = minus(cpuAfter, cpuBefore)
  const idleCpuPercent =
    cpuUsed === undefined ? undefined : (cpuUsed / (options.idleWindowMs / 1000)) * 100
  after = await probe.snapshot()

  const noMetrics = probe.metricsUnavailable ?? 'the metrics endpoint has no such series'
  const pids = targets.members.map((t) => t.pid)
  const noProcess = pids.every((pid) => pid)
    ? `cannot read /proc/${pids.join(', /proc/')}`
    : 'pass --target-pid (a local server; one per target) or export process_* metrics'
  const rssGrowth = minus(after.rssBytes, baseline.rssBytes)
  const checks = [
    ...extra,
    check(
      'sessions back to baseline',
      after.sessionsOpen,
      baseline.sessionsOpen ?? 0,
      'sessions',
      true,
      `server-side session count: ${noMetrics}`,
    ),
    check(
      'SSE streams back to baseline',
      after.streamsOpen,
      baseline.streamsOpen ?? 0,
      'streams',
      true,
      `server-side stream count: ${noMetrics}`,
    ),
    ...(transport === 'modern'
      ? [
          check(
            '2026 requests in flight back to baseline',
            after.requestsInFlight,
            baseline.requestsInFlight ?? 0,
            'requests',
            true,
            `server-side count of requests in flight: ${noMetrics}`,
          ),
          check(
            'listen streams back to baseline',
            after.subscriptionsOpen,
            baseline.subscriptionsOpen ?? 0,
            'streams',
            true,
            `server-side count of listen streams: ${noMetrics}`,
          ),
        ]
      : []),
    await reapCheck(abandoned, settleMs, options.stepTimeoutMs),
    check(
      `idle CPU over ${options.idleWindowMs / 1000} s`,
      idleCpuPercent,
      options.maxIdleCpuPercent,
      '% of a core',
      true,
      noProcess,
    ),
    check(
      'memory back within tolerance',
      rssGrowth === undefined ? undefined : rssGrowth / 2 ** 20,
      options.memoryToleranceBytes / 2 ** 20,
      'MiB above baseline',
      true,
      noProcess,
    ),
    check(
      'file descriptors back to baseline',
      extraFds(baseline, after),
      options.fdTolerance,
      'fds above baseline (our open keep-alive connections aside)',
      true,
      noProcess,
    ),
    await liveness(targets, transport, options.stepTimeoutMs),
  ]
  return { passed: checks.every((c) => c.passed), settleMs, checks }
}

/** Server fds above baseline that no connection of ours explains. */
function extraFds(baseline: ServerSnapshot, now: ServerSnapshot): number | undefined {
  if (now.fds === undefined || baseline.fds === undefined) return undefined
  return now.fds - now.ownConnections - (baseline.fds - baseline.ownConnections)
}
