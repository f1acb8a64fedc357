import { existsSync, readdirSync, readFileSync, writeFileSync } from 'node:fs'
import { type ClientSession, openClientSession } from '../loadtest/client-session.ts'
import { runPool } from '../loadtest/pool.ts'
import { procCpuSeconds } from '../loadtest/probe.ts'
import { quantile } from '../loadtest/scenarios/rpc.ts'
import { type Route, spawnServer, type Target } from '../loadtest/target.ts'
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

export interface WorkersRow {
  workers: number
  transport: TransportKind
  concurrency: number
  calls: number
  errors: number
  callsPerSecond: number
  p50Ms: number
  p99Ms: number
  /** CPU of the supervisor and every worker over the run. */
  serverCpuSeconds: number
  callsPerCpuSecond: number
  /** CPU of redis-server over the run (the relays' pub/sub, the directory). */
  redisCpuSeconds: number
}

export interface CrossInstanceRow {
  transport: TransportKind
  postsOn: 'same instance' | 'other instance'
  calls: number
  errors: number
  p50Ms: number
  p99Ms: number
}

export interface ClusterBenchReport {
  mode: 'full' | 'short'
  startedAt: string
  skipped?: string
  workers: WorkersRow[]
  crossInstance: CrossInstanceRow[]
}

/** Limits raised so that the rows measure speed, not the production caps (as the other peers). */
const SLUICE_ARGS = [
  '--host',
  '127.0.0.1',
  '--port',
  '0',
  '--max-sessions',
  '10000000',
  '--max-queue-messages',
  '100000',
  '--max-calls-per-session',
  '100000',
]
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

/** CPU seconds of a process and all its descendants (a supervisor and its workers). */
export function treeCpuSeconds(pid: number): number {
  let sum = procCpuSeconds(pid) ?? 0
  for (const child of childPids(pid)) sum += treeCpuSeconds(child)
  return sum
}

function childPids(pid: number): number[] {
  const children: number[] = []
  try {
    for (const task of readdirSync(`/proc/${pid}/task`)) {
      const text = readFileSync(`/proc/${pid}/task/${task}/children`, 'utf8').trim()
      if (text) children.push(...text.split(' ').map(Number))
    }
  } catch {
    // The process has gone.
  }
  return children
}

function redisServerBinary(): string | undefined {
  const found = Bun.which('redis-server')
  if (found) return found
  return existsSync('/usr/bin/redis-server') ? '/usr/bin/redis-server' : undefined
}

interface Redis {
  url: string
  pid: number
  stop(): Promise<void>
}

/** redis-server on a free loopback port, without persistence, until `stop()`. */
async function startRedis(binary: string): Promise<Redis> {
  const probe = Bun.listen({ hostname: '127.0.0.1', port: 0, socket: { data() {} } })
  const port = probe.port
  probe.stop(true)
  const child = Bun.spawn(
    [binary, '--port', String(port), '--bind', '127.0.0.1', '--save', '', '--appendonly', 'no'],
    { stdout: 'ignore', stderr: 'inherit' },
  )
  const deadline = performance.now() + 10_000
  for (;;) {
    try {
      const socket = await Bun.connect({
        hostname: '127.0.0.1',
        port,
        socket: { data() {}, error() {} },
      })
      socket.end()
      break
    } catch {
      if (performance.now() > deadline || child.exitCode !== null) {
        child.kill('SIGKILL')
        throw new Error(`bench: redis-server did not start on 127.0.0.1:${port}`)
      }
      await Bun.sleep(20)
    }
  }
  return {
    url: `redis://127.0.0.1:${port}`,
    pid: child.pid,
    stop: async () => {
      child.kill('SIGTERM')
      await child.exited
    },
  }
}

const fmt = (n: number, digits = 0) =>
  Number.isFinite(n)
    ? n.toLocaleString('en-US', { minimumFractionDigits: digits, maximumFractionDigits: digits })
    : 'n/a'

/** The Markdown of the scaling-out rows, with the ratios that carry across machines. */
export function renderClusterMarkdown(report: ClusterBenchReport): string {
  const out = [`## Scaling out (${report.mode} run, ${report.startedAt})`, '']
  if (report.skipped) return [...out, `Skipped: ${report.skipped}.`, ''].join('\n')
  out.push(
    '| server | transport | concurrency | calls/s | p50 ms | p99 ms | server CPU-s (all processes) | calls per CPU-s | redis-server CPU-s |',
    '| --- | --- | --- | --- | --- | --- | --- | --- | --- |',
  )
  for (const r of report.workers) {
    out.push(
      `| sluice --workers ${r.workers} | ${r.transport} | ${r.concurrency} | ${fmt(r.callsPerSecond)} | ${fmt(r.p50Ms, 2)} | ${fmt(r.p99Ms, 2)} | ${fmt(r.serverCpuSeconds, 2)} | ${fmt(r.callsPerCpuSecond)} | ${fmt(r.redisCpuSeconds, 2)} |`,
    )
  }
  for (const transport of new Set(report.workers.map((r) => r.transport))) {
    const one = report.workers.find((r) => r.transport === transport && r.workers === 1)
    const two = report.workers.find((r) => r.transport === transport && r.workers === 2)
    if (!one || !two) continue
    out.push(
      '',
      `${transport}: --workers 2 to --workers 1: ${fmt(two.callsPerSecond / one.callsPerSecond, 2)}x the calls/s, ${fmt(two.callsPerCpuSecond / one.callsPerCpuSecond, 2)}x the calls per CPU-second.`,
    )
  }
  out.push(
    '',
    '| transport | POSTs on | calls | p50 ms | p99 ms |',
    '| --- | --- | --- | --- | --- |',
  )
  for (const r of report.crossInstance) {
    out.push(
      `| ${r.transport} | ${r.postsOn} | ${fmt(r.calls)} | ${fmt(r.p50Ms, 2)} | ${fmt(r.p99Ms, 2)} |`,
    )
  }
  for (const transport of new Set(report.crossInstance.map((r) => r.transport))) {
    const same = report.crossInstance.find(
      (r) => r.transport === transport && r.postsOn === 'same instance',
    )
    const other = report.crossInstance.find(
      (r) => r.transport === transport && r.postsOn === 'other instance',
    )
    if (!same || !other) continue
    out.push(
      '',
      `${transport}: a POST on the other instance adds ${fmt(other.p50Ms - same.p50Ms, 2)} ms at p50 and ${fmt(other.p99Ms - same.p99Ms, 2)} ms at p99 (one session, calls in turn).`,
    )
  }
  out.push('')
  return out.join('\n')
}
