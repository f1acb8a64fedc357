import { openSessionStream } from '../loadtest/client-session.ts'
import { runPool, withTimeout } from '../loadtest/pool.ts'
import { procCpuSeconds as readCpu, procRssBytes as readRss } from '../loadtest/probe.ts'
import { quantile } from '../loadtest/scenarios/rpc.ts'
import type { Target } from '../loadtest/target.ts'
import { openClient, type RpcClient, type TransportKind } from './rpc-client.ts'

export interface ThroughputResult {
  concurrency: number
  calls: number
  errors: number
  callsPerSecond: number
  p50Ms: number
  /**
   * p99 of each round, then the median of those: a stall of the shared machine spoils the round
   * it falls in, not the figure (one round when measured without turns).
   */
  p99Ms: number
  serverCpuSeconds: number
  callsPerCpuSecond: number
}

export const STEP_TIMEOUT_MS = 30_000

/** A server under load and the kind of client it speaks to. */
export interface LoadTarget {
  target: Target
  kind: TransportKind
}

/** `concurrency` sessions each call echo in a loop for `durationMs`; server CPU from /proc. */
export async function measureThroughput(
  target: Target,
  kind: TransportKind,
  concurrency: number,
  durationMs: number,
): Promise<ThroughputResult> {
  const [result] = await measureInterleaved([{ target, kind }], concurrency, durationMs, 1)
  return result!
}

/**
 * The same load on several servers, taken in turns: `rounds` slices of `durationMs / rounds` per
 * server, the order rotated each round, so that whatever else the machine runs falls on all of
 * them alike and their ratios compare what was measured at the same time.
 */
export async function measureInterleaved(
  targets: readonly LoadTarget[],
  concurrency: number,
  durationMs: number,
  rounds: number,
): Promise<ThroughputResult[]> {
  const loads = []
  for (const { target, kind } of targets) {
    const clients = await openClients(target, kind, concurrency)
    // Warm-up: JIT and connection pools, not measured.
    await Promise.all(clients.map((c) => c.call('echo', { message: 'warm' })))
    loads.push({
      pid: target.pid!,
      clients,
      latencies: [] as number[],
      p99s: [] as number[],
      errors: 0,
      cpu: 0,
      ms: 0,
    })
  }
  const sliceMs = durationMs / rounds
  for (let round = 0; round < rounds; round++) {
    for (let k = 0; k < loads.length; k++) {
      const load = loads[(k + round) % loads.length]!
      const cpuBefore = procCpuSeconds(load.pid)
      const started = performance.now()
      const deadline = started + sliceMs
      const latencies: number[] = []
      await Promise.all(
        load.clients.map(async (client, i) => {
          while (performance.now() < deadline) {
            try {
              latencies.push(await client.call('echo', { message: `client ${i}` }))
            } catch {
              load.errors++
            }
          }
        }),
      )
      load.ms += performance.now() - started
      load.cpu += procCpuSeconds(load.pid) - cpuBefore
      load.p99s.push(
        quantile(
          latencies.sort((a, b) => a - b),
          0.99,
        ),
      )
      for (const latency of latencies) load.latencies.push(latency)
    }
  }
  return loads.map((load) => {
    for (const c of load.clients) c.close()
    const latencies = load.latencies.sort((a, b) => a - b)
    return {
      concurrency,
      calls: latencies.length,
      errors: load.errors,
      callsPerSecond: latencies.length / (load.ms / 1000),
      p50Ms: quantile(latencies, 0.5),
      p99Ms: quantile(
        load.p99s.sort((a, b) => a - b),
        0.5,
      ),
      serverCpuSeconds: load.cpu,
      callsPerCpuSecond: load.cpu > 0 ? latencies.length / load.cpu : Number.NaN,
    }
  })
}

async function openClients(
  target: Target,
  kind: TransportKind,
  count: number,
): Promise<RpcClient[]> {
  const clients: RpcClient[] = []
  await runPool({ count, concurrency: 50, timeCapMs: 120_000 }, async () => {
    clients.push(await openClient(kind, target.base))
  })
  if (clients.length !== count) throw new Error(`opened ${clients.length} of ${count} sessions`)
  return clients
}

/** An idle client: one held stream of its transport's kind. */
interface IdleSession {
  close(): void
}

async function openIdle(target: Target, kind: TransportKind): Promise<IdleSession> {
  // Each kind's held stream: a legacy session's stream, a 2025 session's standalone GET stream,
  // a 2026-07-28 subscriptions/listen stream (past its acknowledgement).
  const stream = await openSessionStream(kind, target.base, undefined, STEP_TIMEOUT_MS)
  await withTimeout(stream.opened, STEP_TIMEOUT_MS, 'the idle stream')
  return { close: () => stream.end() }
}

export interface IdleResult {
  /** Streams held open at this step. */
  sessions: number
  openPerSecond: number
  /** Resident memory grown since before the first stream, per stream held. */
  rssPerSessionKiB: number
  /**
   * Resident memory grown since the previous step, per stream added: the cost of one more held
   * stream, without the one-off growth the first streams bring (heap pages, JIT, buffers).
   * Undefined at the first step, and when the server refused most of the step's streams.
   */
  marginalKiB: number | undefined
  /** Server CPU while the streams sit idle (keepalives only), in % of one core per 1,000. */
  idleCpuPercentPer1000: number
}

/**
 * Opens idle streams up to each of `counts` in turn (they stay open from step to step) and reads
 * the server's resident memory at each; the idle CPU is read at the last step, then all close.
 */
export async function measureIdle(
  target: Target,
  kind: TransportKind,
  counts: readonly number[],
  idleWindowMs: number,
): Promise<IdleResult[]> {
  const pid = target.pid!
  await Bun.sleep(500)
  const rssBefore = procRssBytes(pid)
  const sessions: IdleSession[] = []
  const results: IdleResult[] = []
  let previous: { sessions: number; rss: number } | undefined
  try {
    for (const count of counts) {
      const opened = await runPool(
        { count: count - sessions.length, concurrency: 100, timeCapMs: 120_000 },
        async () => {
          sessions.push(await openIdle(target, kind))
        },
      )
      await Bun.sleep(1000)
      const rss = procRssBytes(pid)
      const added = sessions.length - (previous?.sessions ?? 0)
      results.push({
        sessions: sessions.length,
        openPerSecond: opened.completed / (opened.elapsedMs / 1000),
        rssPerSessionKiB: (rss - rssBefore) / sessions.length / 1024,
        // Only when the step opened most of what it asked: a server that refused past a cap
        // (the SDK v2 holds 1,024 listen streams) adds too few for a per-stream figure.
        marginalKiB:
          previous && added >= (count - previous.sessions) / 2
            ? (rss - previous.rss) / added / 1024
            : undefined,
        idleCpuPercentPer1000: Number.NaN,
      })
      previous = { sessions: sessions.length, rss }
    }
    const cpuBefore = procCpuSeconds(pid)
    await Bun.sleep(idleWindowMs)
    const cpuPercent = ((procCpuSeconds(pid) - cpuBefore) / (idleWindowMs / 1000)) * 100
    const last = results[results.length - 1]!
    last.idleCpuPercentPer1000 = cpuPercent / (sessions.length / 1000)
    return results
  } finally {
    for (const s of sessions) s.close()
  }
}

/** The peer's CPU seconds so far; the bench always starts its peers, so /proc must be there. */
export function procCpuSeconds(pid: number): number {
  const seconds = readCpu(pid)
  if (seconds === undefined) throw new Error(`bench: process ${pid} has gone`)
  return seconds
}

function procRssBytes(pid: number): number {
  const bytes = readRss(pid)
  if (bytes === undefined) throw new Error(`bench: process ${pid} has gone`)
  return bytes
}
