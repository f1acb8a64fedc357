#!/usr/bin/env bun
/**
 * Same-instance vs cross-instance POST latency in a two-instance cluster on a real redis-server:
 * a session initialized on A, then `ping` POSTs (JSON answers) sent to A and to B, alternating,
 * one at a time. `bun bench/cluster-latency.ts [requests]` (default 500). A rough figure on a
 * shared machine: compare the two columns of one run.
 */
import { DEFAULT_CONFIG } from '../server/config.ts'
import { silentLogger } from '../server/observability/log.ts'
import { SluiceServer } from '../server/server.ts'
import { startRedis } from '../test/cluster/redis-server.ts'

const requests = Math.min(Number(process.argv[2] ?? 500) || 500, 20_000)
const redis = await startRedis()
const [a, b] = [0, 1].map(
  () =>
    new SluiceServer({ ...DEFAULT_CONFIG, port: 0, redisUrl: redis.url }, { logger: silentLogger }),
) as [SluiceServer, SluiceServer]
for (const s of [a, b]) s.listen()
await Promise.all([a.clusterReady(), b.clusterReady()])

const headers = { 'content-type': 'application/json', accept: 'application/json' }
const init = await fetch(new URL('/mcp', a.url), {
  method: 'POST',
  headers,
  body: JSON.stringify({
    jsonrpc: '2.0',
    id: 0,
    method: 'initialize',
    params: {
      protocolVersion: '2025-11-25',
      capabilities: {},
      clientInfo: { name: 'b', version: '1' },
    },
  }),
})
const session = init.headers.get('mcp-session-id') ?? ''
const body = JSON.stringify({ jsonrpc: '2.0', id: 1, method: 'ping' })

async function time(base: URL): Promise<number> {
  const started = performance.now()
  const response = await fetch(new URL('/mcp', base), {
    method: 'POST',
    headers: { ...headers, 'mcp-session-id': session, 'mcp-protocol-version': '2025-11-25' },
    body,
  })
  await response.arrayBuffer()
  if (!response.ok) throw new Error(`POST answered ${response.status}`)
  return performance.now() - started
}

for (let i = 0; i < 50; i++) await Promise.all([time(a.url), time(b.url)])
const same: number[] = []
const cross: number[] = []
for (let i = 0; i < requests; i++) {
  same.push(await time(a.url))
  cross.push(await time(b.url))
}
const pct = (xs: number[], p: number) => {
  const sorted = [...xs].sort((x, y) => x - y)
  return sorted[Math.min(sorted.length - 1, Math.floor((p / 100) * sorted.length))] ?? 0
}
const row = (name: string, xs: number[]) =>
  `${name.padEnd(16)} p50 ${pct(xs, 50).toFixed(2)} ms  p99 ${pct(xs, 99).toFixed(2)} ms`
console.log(`${requests} ping POSTs each, one at a time, one session on A`)
console.log(row('same instance', same))
console.log(row('cross instance', cross))
await Promise.all([a.stop(), b.stop()])
await redis.stop()
