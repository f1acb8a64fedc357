import { writeFileSync } from 'node:fs'
import { type ClientSession, openClientSession } from '../loadtest/client-session.ts'
import { runPool } from '../loadtest/pool.ts'
import { procCpuSeconds } from '../loadtest/probe.ts'
import { quantile } from '../loadtest/scenarios/rpc.ts'
import { type Route, spawnServer, type Target } from '../loadtest/target.ts'
import { type Redis, redisServerBinary, startRedis, treeCpuSeconds } from './cluster-processes.ts'
import {
  type ClusterBenchReport,
  type CrossInstanceRow,
  renderClusterMarkdown,
  type WorkersRow,
} from './cluster-report.ts'
import { SLUICE_ARGS } from './peers.ts'
import type { TransportKind } from './rpc-client.ts'

/**
 * The scaling-out rows of `bun run bench`: `--workers 2` against `--workers 1` on one port
 * (calls/s, and calls per CPU-second of every worker process together), and the latency a POST
 * adds when it lands on another instance than its session's (relayed through Redis). Each server
 * shares a redis-server the bench starts on a free loopback port; without redis-server the rows
 * are skipped and the bench says why.
 */

const PLANS = {
  full: {
    workerTransports: ['streamable', 'modern'],
    workerConcurrency: 64,
    latencyTransports: ['streamable', 'sse'],
    callMs: 5_000,
  },
  short: {
    workerTransports: ['streamable'],
    workerConcurrency: 16,
    latencyTransports: ['streamable'],
    callMs: 2_000,
  },
} as const satisfies Record<string, Plan>

interface Plan {
  workerTransports: readonly TransportKind[]
  workerConcurrency: number
  latencyTransports: readonly TransportKind[]
  callMs: number
}

const SERVER_ENTRY = new URL('../server/main.ts', import.meta.url).pathname
const CALL_TIMEOUT_MS = 30_000

/**
 * Runs the rows, writes `bench/results/cluster-{latest,short}.{json,md}` and returns the Markdown
 * to print.
 */
export async function benchCluster(mode: 'full' | 'short', resultsDir: string): Promise<string> {
  const plan: Plan = PLANS[mode]
  const report: ClusterBenchReport = {
    mode,
    startedAt: new Date().toISOString(),
    workers: [],
    crossInstance: [],
  }
  const binary = redisServerBinary()
  if (!binary) {
    report.skipped = 'redis-server is not installed (apt-get install redis-server)'
  } else {
    const redis = await startRedis(binary)
    try {
      await measureWorkers(plan, redis, report.workers)
      await measureCrossInstance(plan, redis.url, report.crossInstance)
    } finally {
      await redis.stop()
    }
  }
  const markdown = renderClusterMarkdown(report)
  const name = mode === 'full' ? 'cluster-latest' : 'cluster-short'
  writeFileSync(`${resultsDir}${name}.json`, `${JSON.stringify(report, null, 2)}\n`)
  writeFileSync(`${resultsDir}${name}.md`, markdown)
  return markdown
}

async function measureWorkers(plan: Plan, redis: Redis, rows: WorkersRow[]): Promise<void> {
  for (const transport of plan.workerTransports) {
    for (const workers of [1, 2]) {
      console.error(`bench: sluice --workers ${workers} (${transport})`)
      const target = await spawnServer(SERVER_ENTRY, [
        ...SLUICE_ARGS,
        '--workers',
        String(workers),
        '--redis-url',
        redis.url,
      ])
      try {
        await joined(target)
        const route = { streamBase: target.base, postBase: target.base }
        const redisBefore = procCpuSeconds(redis.pid) ?? Number.NaN
        const run = await callLoop(
          transport,
          () => route,
          plan.workerConcurrency,
          plan.callMs,
          () => treeCpuSeconds(target.pid ?? 0),
        )
        const redisCpuSeconds = (procCpuSeconds(redis.pid) ?? Number.NaN) - redisBefore
        rows.push({
          workers,
          transport,
          concurrency: plan.workerConcurrency,
          ...run,
          redisCpuSeconds,
        })
      } finally {
        await target.stop()
      }
    }
  }
}

async function measureCrossInstance(
  plan: Plan,
  redisUrl: string,
  rows: CrossInstanceRow[],
): Promise<void> {
  console.error('bench: two sluice instances on one redis-server (POSTs on the same or other)')
  const args = [...SLUICE_ARGS, '--redis-url', redisUrl]
  const instances: Target[] = []
  try {
    instances.push(await spawnServer(SERVER_ENTRY, args), await spawnServer(SERVER_ENTRY, args))
    const [a, b] = instances as [Target, Target]
    await Promise.all(instances.map(joined))
    for (const transport of plan.latencyTransports) {
      for (const postsOn of ['same instance', 'other instance'] as const) {
        const route: Route = {
          streamBase: a.base,
          postBase: postsOn === 'same instance' ? a.base : b.base,
        }
        // One session calling in turn: the latency of one call, not a queue behind others.
        const run = await callLoop(
          transport,
          () => route,
          1,
          plan.callMs,
          () => 0,
        )
        rows.push({
          transport,
          postsOn,
          calls: run.calls,
          errors: run.errors,
          p50Ms: run.p50Ms,
          p99Ms: run.p99Ms,
        })
      }
    }
  } finally {
    await Promise.all(instances.map((t) => t.stop()))
  }
}

/** `concurrency` sessions each call echo in a loop for `durationMs`, after one warm-up call. */
async function callLoop(
  transport: TransportKind,
  route: () => Route,
  concurrency: number,
  durationMs: number,
  cpuSeconds: () => number,
): Promise<Omit<WorkersRow, 'workers' | 'transport' | 'concurrency' | 'redisCpuSeconds'>> {
  const sessions: ClientSession[] = []
  await runPool({ count: concurrency, concurrency: 50, timeCapMs: 60_000 }, async () => {
    sessions.push(await openClientSession(transport, route(), undefined, CALL_TIMEOUT_MS))
  })
  if (sessions.length !== concurrency) {
    for (const s of sessions) s.end()
    throw new Error(`opened ${sessions.length} of ${concurrency} sessions`)
  }
  const call = async (session: ClientSession, message: string) => {
    const reply = await session.request(
      'tools/call',
      { name: 'echo', arguments: { message } },
      CALL_TIMEOUT_MS,
    )
    if (reply.message.error) throw new Error(reply.message.error.message)
    return reply.latencyMs
  }
  await Promise.all(sessions.map((s) => call(s, 'warm')))
  const latencies: number[] = []
  let errors = 0
  const cpuBefore = cpuSeconds()
  const started = performance.now()
  const deadline = started + durationMs
  await Promise.all(
    sessions.map(async (session, i) => {
      while (performance.now() < deadline) {
        try {
          latencies.push(await call(session, `client ${i}`))
        } catch {
          errors++
        }
      }
    }),
  )
  const seconds = (performance.now() - started) / 1000
  const serverCpuSeconds = cpuSeconds() - cpuBefore
  for (const s of sessions) s.end()
  latencies.sort((x, y) => x - y)
  return {
    calls: latencies.length,
    errors,
    callsPerSecond: latencies.length / seconds,
    p50Ms: quantile(latencies, 0.5),
    p99Ms: quantile(latencies, 0.99),
    serverCpuSeconds,
    callsPerCpuSecond: serverCpuSeconds > 0 ? latencies.length / serverCpuSeconds : Number.NaN,
  }
}

/**
 * Resolves once the instance reached Redis (`sluice_redis_connected` 1): a single instance says
 * `listening` before, and relays to it would get 503 until then.
 */
async function joined(target: Target): Promise<void> {
  const deadline = performance.now() + 15_000
  for (;;) {
    const text = await (await fetch(new URL('/metrics', target.base))).text()
    if (/^sluice_redis_connected(\{[^}]*\})? 1$/m.test(text)) return
    if (performance.now() > deadline)
      throw new Error(`bench: ${target.base.href} did not reach Redis`)
    await Bun.sleep(20)
  }
}
