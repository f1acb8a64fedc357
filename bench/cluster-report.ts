import type { TransportKind } from './rpc-client.ts'

// What the scaling-out rows measured, and their Markdown.

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
