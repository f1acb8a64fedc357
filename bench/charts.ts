import { writeFileSync } from 'node:fs'
import type { BenchReport } from './report.ts'
import { lineChart } from './svg-chart.ts'

/** throughput.svg (calls/s by concurrency) and memory.svg (KiB per idle stream by count). */
export function writeCharts(report: BenchReport, dir: string, prefix: string): void {
  writeFileSync(
    `${dir}${prefix}throughput.svg`,
    lineChart(
      report.peers.map((p) => ({
        name: p.name,
        points: p.throughput.map((t) => [t.concurrency, t.callsPerSecond] as const),
      })),
      {
        title: 'tools/call echo throughput',
        xLabel: 'concurrent sessions',
        yLabel: 'calls per second',
      },
    ),
  )
  writeFileSync(
    `${dir}${prefix}memory.svg`,
    lineChart(
      report.peers
        .filter((p) => p.idle.length > 0)
        .map((p) => ({
          name: p.name,
          points: p.idle.map((i) => [i.sessions, i.rssPerSessionKiB] as const),
        })),
      {
        title: 'resident memory per idle held stream',
        xLabel: 'idle streams',
        yLabel: 'KiB per stream',
      },
    ),
  )
}
