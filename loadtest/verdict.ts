import { openClientSession, type TransportKind } from './client-session.ts'
import type { ServerProbe, ServerSnapshot } from './probe.ts'
import { type SessionRef, sessionStillOpen } from './session-check.ts'
import type { Target } from './target.ts'

/** One check of a verdict: what was measured against what it had to be. */
export interface Check {
  name: string
  /** False when the figure could not be seen from here: the check then neither passes nor fails. */
  measured: boolean
  passed: boolean
  /** The measured figure; null when not measured. */
  value: number | null
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
  /** Per-request bound of the reap check and the liveness probe. */
  stepTimeoutMs: number
}

/**
 * A check of `value` against `limit`. An `undefined` value was not measured: the check is shown as
 * not available (with `unavailable` as the reason) and does not decide the verdict.
 */
export function check(
  name: string,
  value: number | undefined,
  limit: number,
  unit: string,
  okIfAtMost = true,
  unavailable = 'not measured',
): Check {
  if (value === undefined || !Number.isFinite(value)) {
    return notMeasured(name, limit, unit, unavailable)
  }
  const passed = okIfAtMost ? value <= limit : value >= limit
  const detail = passed
    ? `${fmt(value)} ${unit} (limit ${okIfAtMost ? '<=' : '>='} ${fmt(limit)})`
    : `${fmt(value)} ${unit}, ${okIfAtMost ? 'over' : 'under'} the limit of ${fmt(limit)} by ${fmt(Math.abs(value - limit))}`
  return { name, measured: true, passed, value, limit, unit, detail }
}

export function notMeasured(name: string, limit: number, unit: string, reason: string): Check {
  return {
    name,
    measured: false,
    passed: true,
    value: null,
    limit,
    unit,
    detail: `not available: ${reason}`,
  }
}

const fmt = (n: number) => (Number.isInteger(n) ? String(n) : n.toFixed(2))
const minus = (a: number | undefined, b: number | undefined) =>
  a === undefined || b === undefined ? undefined : a - b

/**
 * After a scenario: waits (bounded) for the server to settle back to its baseline, then checks
 * what can be seen: sessions and streams (sluice /metrics), idle CPU, memory and fds (/proc or
 * metrics), whether the sessions the scenario left are gone (asked of the server itself), and
 * liveness. What cannot be seen is reported as not available, never guessed.
 */
export async function judge(
  target: Target,
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
  const noProcess = target.pid
    ? `cannot read /proc/${target.pid}`
    : 'pass --target-pid (a local server) or export process_* metrics'
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
    await liveness(target, transport, options.stepTimeoutMs),
  ]
  return { passed: checks.every((c) => c.passed), settleMs, checks }
}

/** Server fds above baseline that no connection of ours explains. */
function extraFds(baseline: ServerSnapshot, now: ServerSnapshot): number | undefined {
  if (now.fds === undefined || baseline.fds === undefined) return undefined
  return now.fds - now.ownConnections - (baseline.fds - baseline.ownConnections)
}

/**
 * Asks the server about each session the scenario left (a ping: 404 means gone). Seen from
 * outside, so it judges servers without sluice's /metrics too.
 */
async function reapCheck(
  abandoned: readonly SessionRef[],
  afterMs: number,
  timeoutMs: number,
): Promise<Check> {
  const name = 'sessions left by the load tester are closed by the server'
  if (abandoned.length === 0) {
    return notMeasured(name, 0, 'sessions', 'this scenario left no session it can name')
  }
  const answers: Array<boolean | undefined> = []
  for (let i = 0; i < abandoned.length; i += REAP_CHECK_CONCURRENCY) {
    const batch = abandoned.slice(i, i + REAP_CHECK_CONCURRENCY)
    answers.push(...(await Promise.all(batch.map((ref) => sessionStillOpen(ref, timeoutMs)))))
  }
  const known = answers.filter((a) => a !== undefined)
  if (known.length === 0) {
    return notMeasured(name, 0, 'sessions', 'the server answered neither 2xx nor 404 to a ping')
  }
  const open = known.filter((a) => a).length
  const result = check(name, open, 0, `of ${known.length} asked still open`)
  if (open > 0) {
    result.detail = `${open} of ${known.length} sessions asked still answer ${Math.round(afterMs / 1000)} s after the scenario (limit 0): the server has not reaped them`
  }
  return result
}

/** A fresh session initializes and answers ping (which every MCP server must). */
async function liveness(
  target: Target,
  transport: TransportKind,
  timeoutMs: number,
): Promise<Check> {
  const name = 'liveness: a fresh session initializes and answers ping'
  const limit = Math.max(timeoutMs, LIVENESS_TIMEOUT_MS)
  const started = performance.now()
  try {
    const session = await openClientSession(transport, target.base, undefined, limit)
    try {
      const reply = await session.request('ping', {}, limit)
      if (!reply.message.result) throw new Error(`ping answered ${JSON.stringify(reply.message)}`)
    } finally {
      session.end()
    }
    // Let the server see the probe leave, so the next baseline is clean.
    await Bun.sleep(50)
    return check(name, performance.now() - started, limit, 'ms')
  } catch (err) {
    return {
      name,
      measured: true,
      passed: false,
      value: null,
      limit,
      unit: 'ms',
      detail: `failed: ${(err as Error).message}`,
    }
  }
}

const LIVENESS_TIMEOUT_MS = 10_000
/** Reap-check pings in flight at once. */
const REAP_CHECK_CONCURRENCY = 50
