import autocannon from 'autocannon'
import { openSessionStream } from '../loadtest/client-session.ts'
import { LegacyMcpSession } from '../loadtest/mcp-session.ts'
import { modernRequest } from '../loadtest/modern-client.ts'
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
  p99Ms: number
  serverCpuSeconds: number
  callsPerCpuSecond: number
}

const STEP_TIMEOUT_MS = 30_000

/** `concurrency` sessions each call echo in a loop for `durationMs`; server CPU from /proc. */
export async function measureThroughput(
  target: Target,
  kind: TransportKind,
  concurrency: number,
  durationMs: number,
): Promise<ThroughputResult> {
  const clients = await openClients(target, kind, concurrency)
  // Warm-up: JIT and connection pools, not measured.
  await Promise.all(clients.map((c) => c.call('echo', { message: 'warm' })))
  const latencies: number[] = []
  let errors = 0
  const cpuBefore = procCpuSeconds(target.pid!)
  const started = performance.now()
  const deadline = started + durationMs
  await Promise.all(
    clients.map(async (client, i) => {
      while (performance.now() < deadline) {
        try {
          latencies.push(await client.call('echo', { message: `client ${i}` }))
        } catch {
          errors++
        }
      }
    }),
  )
  const seconds = (performance.now() - started) / 1000
  const serverCpuSeconds = procCpuSeconds(target.pid!) - cpuBefore
  for (const c of clients) c.close()
  latencies.sort((a, b) => a - b)
  return {
    concurrency,
    calls: latencies.length,
    errors,
    callsPerSecond: latencies.length / seconds,
    p50Ms: quantile(latencies, 0.5),
    p99Ms: quantile(latencies, 0.99),
    serverCpuSeconds,
    callsPerCpuSecond: serverCpuSeconds > 0 ? latencies.length / serverCpuSeconds : Number.NaN,
  }
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
  sessions: number
  openPerSecond: number
  rssPerSessionKiB: number
  /** Server CPU while the sessions sit idle (keepalives only), in % of one core per 1,000 sessions. */
  idleCpuPercentPer1000: number
}

/** Opens `count` idle sessions; sessions/s, resident memory per session and idle CPU. */
export async function measureIdle(
  target: Target,
  kind: TransportKind,
  count: number,
  idleWindowMs: number,
): Promise<IdleResult> {
  const pid = target.pid!
  Bun.gc(true)
  await Bun.sleep(500)
  const rssBefore = procRssBytes(pid)
  const sessions: IdleSession[] = []
  const opened = await runPool({ count, concurrency: 100, timeCapMs: 120_000 }, async () => {
    sessions.push(await openIdle(target, kind))
  })
  await Bun.sleep(1000)
  const rssPerSessionKiB = (procRssBytes(pid) - rssBefore) / sessions.length / 1024
  const cpuBefore = procCpuSeconds(pid)
  await Bun.sleep(idleWindowMs)
  const cpuPercent = ((procCpuSeconds(pid) - cpuBefore) / (idleWindowMs / 1000)) * 100
  for (const s of sessions) s.close()
  return {
    sessions: sessions.length,
    openPerSecond: opened.completed / (opened.elapsedMs / 1000),
    rssPerSessionKiB,
    idleCpuPercentPer1000: cpuPercent / (sessions.length / 1000),
  }
}

export interface PostResult {
  requestsPerSecond: number
  p50Ms: number
  p99Ms: number
  non2xx: number
}

/**
 * autocannon POSTs tools/call echo as fast as it can. For SSE servers the POST is answered 202
 * and the result drains on one session's stream; for Streamable HTTP the POST carries the result.
 */
export async function measurePosts(
  target: Target,
  kind: TransportKind,
  connections: number,
  durationS: number,
): Promise<PostResult> {
  const body = JSON.stringify({
    jsonrpc: '2.0',
    id: 1,
    method: 'tools/call',
    params: { name: 'echo', arguments: { message: 'bench' } },
  })
  let url: string
  const headers: Record<string, string> = { 'content-type': 'application/json' }
  let close: () => void
  if (kind === 'modern') {
    // Every POST stands alone: no session, the SEP-2243 headers and `_meta` on each.
    const request = modernRequest(1, 'tools/call', {
      name: 'echo',
      arguments: { message: 'bench' },
    })
    return runAutocannon(
      new URL('/mcp', target.base).href,
      { ...headers, ...request.headers },
      request.body,
      connections,
      durationS,
      () => {},
    )
  }
  if (kind === 'sse') {
    const session = await LegacyMcpSession.open(target.base, undefined, STEP_TIMEOUT_MS)
    await session.initialize(STEP_TIMEOUT_MS)
    url = session.postUrl.href
    close = () => session.connection.reset()
  } else {
    const init = await fetch(new URL('/mcp', target.base), {
      method: 'POST',
      headers: { ...headers, accept: 'application/json, text/event-stream' },
      body: JSON.stringify({
        jsonrpc: '2.0',
        id: 0,
        method: 'initialize',
        params: {
          protocolVersion: '2025-06-18',
          capabilities: {},
          clientInfo: { name: 'bench', version: '1' },
        },
      }),
    })
    await init.arrayBuffer()
    headers.accept = 'application/json, text/event-stream'
    const sessionId = init.headers.get('mcp-session-id')
    if (sessionId) headers['mcp-session-id'] = sessionId
    headers['mcp-protocol-version'] = '2025-06-18'
    url = new URL('/mcp', target.base).href
    close = () => {}
  }
  return runAutocannon(url, headers, body, connections, durationS, close)
}

async function runAutocannon(
  url: string,
  headers: Record<string, string>,
  body: string,
  connections: number,
  durationS: number,
  close: () => void,
): Promise<PostResult> {
  const result = await autocannon({
    url,
    method: 'POST',
    headers,
    body,
    connections,
    duration: durationS,
  })
  close()
  return {
    requestsPerSecond: result.requests.average,
    p50Ms: result.latency.p50,
    p99Ms: result.latency.p99,
    non2xx: result.non2xx,
  }
}

/** The peer's CPU seconds so far; the bench always starts its peers, so /proc must be there. */
function procCpuSeconds(pid: number): number {
  const seconds = readCpu(pid)
  if (seconds === undefined) throw new Error(`bench: process ${pid} has gone`)
  return seconds
}

function procRssBytes(pid: number): number {
  const bytes = readRss(pid)
  if (bytes === undefined) throw new Error(`bench: process ${pid} has gone`)
  return bytes
}
