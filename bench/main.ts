import { mkdirSync, writeFileSync } from 'node:fs'
import { cpus } from 'node:os'
import {
  type FlagSpec,
  lastValue,
  parseFlags,
  renderHelp,
  switchOn,
  UsageError,
} from '../cli/flags.ts'
import { benchCluster } from './cluster.ts'
import { measureIdle, measurePosts, measureThroughput } from './measure.ts'
import { PEERS } from './peers.ts'
import { type BenchReport, type PeerResult, renderMarkdown } from './report.ts'
import { lineChart } from './svg-chart.ts'

/** What one run measures: the full run, or the short one CI prints. */
const PLANS = {
  full: {
    concurrencies: [1, 4, 16, 64],
    callMs: 5_000,
    idleCounts: [1_000, 5_000],
    idleWindowMs: 15_000,
    postS: 5,
  },
  short: { concurrencies: [16], callMs: 2_000, idleCounts: [1_000], idleWindowMs: 3_000, postS: 2 },
} as const

const RESULTS = new URL('./results/', import.meta.url).pathname

const BENCH_FLAGS: readonly FlagSpec[] = [
  {
    flag: '--short',
    kind: 'switch',
    env: 'BENCH_SHORT',
    description: 'the short run CI prints (about 40 s), written to bench/results/short.*',
    defaultText: 'off: the full run, about 5 minutes, bench/results/latest.*',
  },
  {
    flag: '--only',
    kind: 'value',
    env: 'BENCH_ONLY',
    description: 'only the servers whose name starts with this, e.g. sluice or sdk',
    defaultText: 'every server',
  },
]

/** `bun run bench --help`. */
function usage(): string {
  return renderHelp({
    usage: ['usage: bun run bench [--short] [--only NAME]      (or: bun bench/main.ts ...)'],
    about: [
      `Servers, one after another on loopback: ${PEERS.map((p) => p.name).join('; ')}.`,
      'Writes bench/results/*.{json,md,svg} and prints the Markdown table.',
    ],
    flags: BENCH_FLAGS,
  })
}

/** `bun run bench [--short] [--only=NAME]`: every peer (or those whose name starts with NAME) on loopback, one after another, with the same client. */
async function main(): Promise<number> {
  let flags: Map<string, string[]>
  let short: boolean
  try {
    const parsed = parseFlags(process.argv.slice(2), BENCH_FLAGS, process.env)
    if (parsed.help) {
      console.log(usage())
      return 0
    }
    flags = parsed.values
    short = switchOn(flags, '--short')
  } catch (err) {
    if (err instanceof UsageError) {
      console.error(`bench: ${err.message}`)
      return 2
    }
    throw err
  }
  const mode = short ? 'short' : 'full'
  const plan = PLANS[mode]
  const nodeVersion = Bun.spawnSync([Bun.which('node') ?? 'node', '--version'])
    .stdout.toString()
    .trim()
  const report: BenchReport = {
    tool: 'sluice-bench',
    mode,
    startedAt: new Date().toISOString(),
    machine: {
      cpus: cpus().length,
      platform: `${process.platform}-${process.arch}`,
      bun: Bun.version,
      node: nodeVersion,
    },
    peers: [],
  }
  const only = lastValue(flags, '--only')
  for (const peer of PEERS.filter((p) => !only || p.name.startsWith(only))) {
    console.error(`bench: ${peer.name}`)
    const target = await peer.start()
    try {
      // Idle memory first, on a fresh server, before any load has grown its heap.
      const idle = []
      for (const count of plan.idleCounts)
        idle.push(await measureIdle(target, peer.transport, count, plan.idleWindowMs))
      const throughput = []
      for (const c of plan.concurrencies)
        throughput.push(await measureThroughput(target, peer.transport, c, plan.callMs))
      const posts = await measurePosts(target, peer.transport, 32, plan.postS)
      const result: PeerResult = {
        name: peer.name,
        transport: peer.transport,
        runtime: peer.runtime,
        throughput,
        idle,
        posts,
      }
      report.peers.push(result)
    } finally {
      await target.stop()
    }
  }
  mkdirSync(RESULTS, { recursive: true })
  const markdown = renderMarkdown(report)
  const base = mode === 'full' ? 'latest' : 'short'
  writeFileSync(`${RESULTS}${base}.json`, `${JSON.stringify(report, null, 2)}\n`)
  writeFileSync(`${RESULTS}${base}.md`, markdown)
  const prefix = mode === 'full' ? '' : 'short-'
  writeFileSync(
    `${RESULTS}${prefix}throughput.svg`,
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
    `${RESULTS}${prefix}memory.svg`,
    lineChart(
      report.peers.map((p) => ({
        name: p.name,
        points: p.idle.map((i) => [i.sessions, i.rssPerSessionKiB] as const),
      })),
      {
        title: 'resident memory per idle session',
        xLabel: 'idle sessions',
        yLabel: 'KiB per session',
      },
    ),
  )
  console.log(markdown)
  if (!only || 'cluster'.startsWith(only)) console.log(await benchCluster(mode, RESULTS))
  return 0
}

process.exitCode = await main()
