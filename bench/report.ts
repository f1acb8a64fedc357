import type { IdleResult, ThroughputResult } from './measure.ts'
import { LANES, type Lane, type Role } from './peers.ts'
import type { PostResult } from './posts.ts'
import { computeRatios } from './ratios.ts'

export interface PeerResult {
  name: string
  lane: Lane
  role: Role
  runtime: string
  throughput: ThroughputResult[]
  /** Empty when the lane measures no idle stream, or this server holds none. */
  idle: IdleResult[]
  /** autocannon POSTs (full run only). */
  posts: PostResult | undefined
}

export interface BenchReport {
  tool: 'sluice-bench'
  mode: 'short' | 'full'
  startedAt: string
  machine: {
    cpus: number
    platform: string
    bun: string
    node: string
    /** The core every server was pinned to, if any. */
    serverCore: number | undefined
  }
  peers: PeerResult[]
}

const r0 = (n: number) => (Number.isFinite(n) ? Math.round(n).toLocaleString('en-US') : 'n/a')
const r1 = (n: number) => (Number.isFinite(n) ? n.toFixed(1) : 'n/a')
const r2 = (n: number) => (Number.isFinite(n) ? n.toFixed(2) : 'n/a')

const ROLE_NAMES: Record<Role, string> = {
  sluice: 'sluice',
  raw: 'raw Bun.serve peer',
  'sdk-v1': 'SDK v1 (Node)',
  'sdk-v2': 'SDK v2 (Bun)',
}

/** Markdown: the aims (every ratio within its lane), then the absolute figures per server. */
export function renderMarkdown(report: BenchReport): string {
  const { machine } = report
  const pinned =
    machine.serverCore === undefined
      ? 'servers not pinned'
      : `each server pinned to core ${machine.serverCore}, the client to the others`
  const out = [
    `# sluice bench (${report.mode})`,
    '',
    `${report.startedAt}; ${machine.cpus} CPUs, ${machine.platform}, Bun ${machine.bun}, Node ${machine.node}; ${pinned}. Ratios within a lane are what carry across machines.`,
    '',
    '| lane | measure | sluice | against | peer | ratio | aim | met |',
    '| --- | --- | --- | --- | --- | --- | --- | --- |',
  ]
  for (const r of computeRatios(report.peers)) {
    const f = r.measure.startsWith('calls') ? r0 : r2
    out.push(
      `| ${r.lane} | ${r.measure} | ${f(r.sluice)} | ${ROLE_NAMES[r.against]} | ${f(r.peer)} | ${r2(r.ratio)}x | ${r.aim} | ${r.met ? 'yes' : '**no**'} |`,
    )
  }
  out.push(
    '',
    '| lane | server | concurrency | calls/s | p50 ms | p99 ms | calls per CPU-s | autocannon POST/s | streams opened/s | KiB per idle stream | idle CPU % per 1k |',
    '| --- | --- | --- | --- | --- | --- | --- | --- | --- | --- | --- |',
  )
  for (const { lane } of LANES) {
    for (const p of report.peers.filter((q) => q.lane === lane)) {
      p.throughput.forEach((t, i) => {
        const idle = i === 0 ? p.idle : []
        const kib = idle
          .map(
            (d) =>
              `${r1(d.rssPerSessionKiB)} (${d.sessions})${d.marginalKiB === undefined ? '' : `, +${r1(d.marginalKiB)} marginal`}`,
          )
          .join('; ')
        const last = idle[idle.length - 1]
        out.push(
          `| ${lane} | ${p.name} | ${t.concurrency} | ${r0(t.callsPerSecond)} | ${r2(t.p50Ms)} | ${r2(t.p99Ms)} | ${r0(t.callsPerCpuSecond)} | ${i === 0 && p.posts ? r0(p.posts.requestsPerSecond) : ''} | ${last ? r0(last.openPerSecond) : ''} | ${kib} | ${last ? r2(last.idleCpuPercentPer1000) : ''} |`,
        )
      })
    }
  }
  const prefix = report.mode === 'full' ? '' : 'short-'
  out.push(
    '',
    `Charts: \`bench/results/${prefix}throughput.svg\`, \`bench/results/${prefix}memory.svg\`.`,
    '',
  )
  return out.join('\n')
}
