import type { LoadtestOptions, ScenarioName } from './options.ts'
import { ServerProbe } from './probe.ts'
import { Progress } from './progress.ts'
import type { Report, ScenarioReport } from './report.ts'
import { runChurn } from './scenarios/churn.ts'
import type { ScenarioContext, ScenarioResult } from './scenarios/context.ts'
import { runHold } from './scenarios/hold.ts'
import { runRpc } from './scenarios/rpc.ts'
import { runSlow } from './scenarios/slow.ts'
import { runStorm } from './scenarios/storm.ts'
import { AbandonedSessions } from './session-check.ts'
import { SourceAddresses } from './source-addresses.ts'
import { type PostTarget, type Target, TargetSet } from './target.ts'
import { judge } from './verdict.ts'

/** Sessions left by a scenario that the verdict asks the server about. */
const ABANDONED_SAMPLE = 200

function scenario(
  name: ScenarioName,
  ctx: ScenarioContext,
  o: LoadtestOptions,
): Promise<ScenarioResult> {
  switch (name) {
    case 'hold':
      return runHold(ctx, {
        sessions: o.holdSessions,
        concurrency: o.holdConcurrency,
        timeCapMs: o.holdTimeCapMs,
      })
    case 'storm':
      return runStorm(ctx, {
        connections: o.stormConnections,
        concurrency: o.stormConcurrency,
        seed: o.seed,
        timeCapMs: o.stormTimeCapMs,
      })
    case 'churn':
      return runChurn(ctx, {
        durationMs: o.churnDurationMs,
        concurrency: o.churnConcurrency,
        maxCycles: o.churnMaxCycles,
        sampleEveryMs: 1000,
      })
    case 'rpc':
      return runRpc(ctx, {
        sessions: o.rpcSessions,
        durationMs: o.rpcDurationMs,
        maxCallsPerSession: o.rpcMaxCallsPerSession,
      })
    case 'slow':
      return runSlow(ctx, {
        sessions: o.slowSessions,
        messageBytes: o.slowMessageBytes,
        messagesPerSession: o.slowMessagesPerSession,
        evictTimeoutMs: o.slowEvictTimeoutMs,
        maxRssGrowthMiB: o.slowMaxRssGrowthMib,
      })
  }
}

/**
 * Runs the chosen scenarios against a target, one after another, each followed by its verdict.
 * `onScenario` sees each report as it is made.
 */
export async function runLoadtest(
  target: Target | readonly Target[],
  options: LoadtestOptions,
  onScenario: (report: ScenarioReport) => void = () => {},
): Promise<Report> {
  const members = Array.isArray(target) ? target : [target as Target]
  const targets = new TargetSet(members, options.postTarget as PostTarget)
  const ipv4Loopback = members.every((t) => /^127\./.test(t.base.hostname))
  const ctx: ScenarioContext = {
    target: targets.first,
    targets,
    probe: new ServerProbe(members, options.metricsUrl),
    sources: new SourceAddresses(options.sourceAddresses, ipv4Loopback),
    progress: new Progress(),
    stepTimeoutMs: options.stepTimeoutMs,
    transport: options.transport,
    abandoned: new AbandonedSessions(ABANDONED_SAMPLE),
  }
  const report: Report = {
    tool: 'sluice-loadtest',
    startedAt: new Date().toISOString(),
    target: targets.label,
    managedTarget: members.every((t) => t.managed),
    seed: options.seed,
    transport: options.transport,
    options: { ...options },
    scenarios: [],
    passed: true,
  }
  for (const name of options.scenarios) {
    const baseline = await ctx.probe.snapshot()
    const result = await scenario(name, ctx, options)
    const verdict = await judge(
      targets,
      options.transport,
      ctx.probe,
      baseline,
      {
        settleTimeoutMs: options.settleTimeoutMs,
        idleWindowMs: options.idleWindowMs,
        // Each instance idles on its own timers (keepalives, heartbeats): the limit is per instance.
        maxIdleCpuPercent: options.maxIdleCpuPercent * members.length,
        memoryToleranceBytes: options.memoryToleranceMib * 2 ** 20,
        fdTolerance: options.fdTolerance,
        stepTimeoutMs: options.stepTimeoutMs,
      },
      result.checks,
      ctx.abandoned.drain(),
    )
    const scenarioReport = { name, ...result, verdict }
    report.scenarios.push(scenarioReport)
    report.passed &&= verdict.passed
    onScenario(scenarioReport)
  }
  return report
}
