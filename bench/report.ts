import type { IdleResult, PostResult, ThroughputResult } from './measure.ts'

export interface PeerResult {
  name: string
  transport: string
  runtime: string
  throughput: ThroughputResult[]
  idle: IdleResult[]
  posts: PostResult
}

export interface BenchReport {
  tool: 'sluice-bench'
  mode: 'short' | 'full'
  startedAt: string
  machine: { cpus: number; platform: string; bun: string; node: string }
  peers: PeerResult[]
}

const r0 = (n: number) => (Number.isFinite(n) ? Math.round(n).toLocaleString('en-US') : 'n/a')
const r1 = (n: number) => (Number.isFinite(n) ? n.toFixed(1) : 'n/a')
const r2 = (n: number) => (Number.isFinite(n) ? n.toFixed(2) : 'n/a')

/** The highest-concurrency throughput row of a peer. */
const top = (p: PeerResult) => p.throughput[p.throughput.length - 1]
const largestIdle = (p: PeerResult) => p.idle[p.idle.length - 1]

/** Markdown: absolute figures per server, then sluice's ratios to the SDK and the ceiling. */
export function renderMarkdown(report: BenchReport): string {
  const out = [
    `# sluice bench (${report.mode})`,
    '',
    `${report.startedAt}; ${report.machine.cpus} CPUs, ${report.machine.platform}, Bun ${report.machine.bun}, Node ${report.machine.node}. Client and servers share the machine; calls per server CPU-second are what compare across machines.`,
    '',
    '| server | transport | concurrency | calls/s | p50 ms | p99 ms | calls per CPU-s | autocannon POST/s | sessions opened/s | KiB per idle session | idle CPU % per 1k sessions |',
    '| --- | --- | --- | --- | --- | --- | --- | --- | --- | --- | --- |',
  ]
  for (const p of report.peers) {
    for (const t of p.throughput) {
      const first = t === p.throughput[0]
      const idle = largestIdle(p)
      out.push(
        `| ${p.name} | ${p.transport} | ${t.concurrency} | ${r0(t.callsPerSecond)} | ${r2(t.p50Ms)} | ${r2(t.p99Ms)} | ${r0(t.callsPerCpuSecond)} | ${first ? r0(p.posts.requestsPerSecond) : ''} | ${first && idle ? r0(idle.openPerSecond) : ''} | ${first && idle ? `${r1(idle.rssPerSessionKiB)} (${idle.sessions})` : ''} | ${first && idle ? r2(idle.idleCpuPercentPer1000) : ''} |`,
      )
    }
  }
  const sluice = report.peers.find((p) => p.name === 'sluice')
  const sdk = report.peers.find((p) => p.name.startsWith('sdk-sse'))
  const ceiling = report.peers.find((p) => p.name.startsWith('raw'))
  if (sluice && sdk && ceiling) {
    const s = top(sluice)
    const d = top(sdk)
    const c = top(ceiling)
    out.push(
      '',
      '| ratio (sluice to ...) | official SDK, SSE | raw Bun ceiling | aim |',
      '| --- | --- | --- | --- |',
      `| calls per CPU-second | ${r2((s?.callsPerCpuSecond ?? 0) / (d?.callsPerCpuSecond ?? 1))}x | ${r2((s?.callsPerCpuSecond ?? 0) / (c?.callsPerCpuSecond ?? 1))}x | >= 10x SDK, >= 0.7x ceiling |`,
      `| calls per second | ${r2((s?.callsPerSecond ?? 0) / (d?.callsPerSecond ?? 1))}x | ${r2((s?.callsPerSecond ?? 0) / (c?.callsPerSecond ?? 1))}x | |`,
      `| memory per idle session | ${r2((largestIdle(sluice)?.rssPerSessionKiB ?? 0) / (largestIdle(sdk)?.rssPerSessionKiB ?? 1))}x | ${r2((largestIdle(sluice)?.rssPerSessionKiB ?? 0) / (largestIdle(ceiling)?.rssPerSessionKiB ?? 1))}x | <= 0.33x SDK |`,
    )
  }
  const sluiceStreamable = report.peers.find((p) => p.name === 'sluice (streamable)')
  const sdkStreamable = report.peers.find((p) => p.name.startsWith('sdk-streamable'))
  if (sluiceStreamable && sdkStreamable) {
    const s = top(sluiceStreamable)
    const d = top(sdkStreamable)
    out.push(
      `| Streamable HTTP: calls per CPU-second (sluice to SDK) | ${r2((s?.callsPerCpuSecond ?? 0) / (d?.callsPerCpuSecond ?? 1))}x | | >= 10x |`,
      `| Streamable HTTP: memory per idle session (sluice to SDK) | ${r2((largestIdle(sluiceStreamable)?.rssPerSessionKiB ?? 0) / (largestIdle(sdkStreamable)?.rssPerSessionKiB ?? 1))}x | | <= 0.33x |`,
    )
  }
  const sluiceModern = report.peers.find((p) => p.name === 'sluice (modern)')
  const sdkV2 = report.peers.find((p) => p.name.startsWith('sdk-v2'))
  if (sluiceModern && sdkV2) {
    const s = top(sluiceModern)
    const d = top(sdkV2)
    out.push(
      `| 2026-07-28: calls per CPU-second (sluice to SDK v2 on Bun) | ${r2((s?.callsPerCpuSecond ?? 0) / (d?.callsPerCpuSecond ?? 1))}x | | |`,
      `| 2026-07-28: calls per second (sluice to SDK v2 on Bun) | ${r2((s?.callsPerSecond ?? 0) / (d?.callsPerSecond ?? 1))}x | | |`,
      `| 2026-07-28: memory per idle listen stream (sluice to SDK v2 on Bun) | ${r2((largestIdle(sluiceModern)?.rssPerSessionKiB ?? 0) / (largestIdle(sdkV2)?.rssPerSessionKiB ?? 1))}x | | |`,
    )
  }
  out.push('', 'Charts: `bench/results/throughput.svg`, `bench/results/memory.svg`.', '')
  return out.join('\n')
}
