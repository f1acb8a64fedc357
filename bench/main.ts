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
import type { Target } from '../loadtest/target.ts'
import { writeCharts } from './charts.ts'
import { benchCluster } from './cluster.ts'
import { measureIdle, measureInterleaved } from './measure.ts'
import { LANES, laneInfo, PEERS, type Peer, SERVER_CORE } from './peers.ts'
import { measurePosts } from './posts.ts'
import { profile } from './profile.ts'
import { type BenchReport, type PeerResult, renderMarkdown } from './report.ts'

/** What one run measures: the full run, or the short one CI prints (every ratio, under 2 min). */
const PLANS = {
  full: {
    concurrencies: [1, 16, 64],
    callMs: 4_000,
    idleCounts: [1_000, 5_000],
    idleWindowMs: 5_000,
    postS: 3,
  },
  short: {
    concurrencies: [64],
    callMs: 1_500,
    idleCounts: [500, 2_000],
    idleWindowMs: 1_000,
    postS: 0,
  },
} as const
type Plan = (typeof PLANS)[keyof typeof PLANS]

const RESULTS = new URL('./results/', import.meta.url).pathname

const BENCH_FLAGS: readonly FlagSpec[] = [
  {
    flag: '--short',
    kind: 'switch',
    env: 'BENCH_SHORT',
    description: 'the short run CI prints (every ratio, under 2 minutes), bench/results/short.*',
    defaultText: 'off: the full run, about 10 minutes, bench/results/latest.*',
  },
  {
    flag: '--only',
    kind: 'value',
    env: 'BENCH_ONLY',
    description: 'only the servers whose name or lane starts with this, e.g. sluice, raw, modern',
    defaultText: 'every server',
  },
  {
    flag: '--profile',
    kind: 'value',
    description:
      'profile sluice on one lane (legacy, streamable-sse, streamable-json, modern-json, modern-sse) under load with bun --cpu-prof-md, into bench/results/profile-LANE/',
  },
]

/** `bun run bench --help`. */
function usage(): string {
  return renderHelp({
    usage: [
      'usage: bun run bench [--short] [--only NAME] [--profile LANE]   (or: bun bench/main.ts ...)',
    ],
    about: [
      `Servers on loopback, lane by lane: ${PEERS.map((p) => p.name).join('; ')}.`,
      'Every ratio is sluice against a server of its own lane (transport and reply shape).',
      'Writes bench/results/*.{json,md,svg} and prints the Markdown tables.',
    ],
    flags: BENCH_FLAGS,
  })
}

/** The bench's own client keeps off the servers' core, so each server gets one whole core. */
function pinClient(): void {
  const taskset = Bun.which('taskset')
  if (SERVER_CORE === undefined || !taskset) return
  const others = Array.from({ length: SERVER_CORE }, (_, i) => i).join(',')
  Bun.spawnSync([taskset, '-a', '-p', '-c', others, String(process.pid)], { stdout: 'ignore' })
}

/** Rounds a throughput step is cut into, taken in turns across the servers of a lane. */
const ROUNDS = 5

/**
 * The servers of one lane, started together: each one's idle memory on its fresh process, then
 * the throughput steps taken in turns (measureInterleaved), then autocannon one after another.
 */
async function measureLane(peers: readonly Peer[], plan: Plan): Promise<PeerResult[]> {
  const { transport, idleStream } = laneInfo(peers[0]!.lane)
  const targets: Target[] = []
  try {
    for (const peer of peers) {
      console.error(`bench: ${peer.name}`)
      targets.push(await peer.start())
    }
    const results: PeerResult[] = peers.map((peer) => ({
      name: peer.name,
      lane: peer.lane,
      role: peer.role,
      runtime: peer.runtime,
      throughput: [],
      idle: [],
      posts: undefined,
    }))
    // Idle memory first, on fresh servers, before any load has grown their heaps.
    for (const [i, peer] of peers.entries()) {
      if (!idleStream || peer.noIdle) continue
      results[i]!.idle = await measureIdle(
        targets[i]!,
        transport,
        plan.idleCounts,
        plan.idleWindowMs,
      )
    }
    const loads = targets.map((target) => ({ target, kind: transport }))
    for (const c of plan.concurrencies) {
      const step = await measureInterleaved(loads, c, plan.callMs, ROUNDS)
      for (const [i, t] of step.entries()) results[i]!.throughput.push(t)
    }
    if (plan.postS > 0)
      for (const [i, target] of targets.entries())
        results[i]!.posts = await measurePosts(target, transport, 32, plan.postS)
    return results
  } finally {
    await Promise.all(targets.map((t) => t.stop()))
  }
}

/** `bun run bench [--short] [--only=NAME]`: every server (or those NAME picks), one after another, with the same client. */
async function main(): Promise<number> {
  let flags: Map<string, string[]>
  try {
    const parsed = parseFlags(process.argv.slice(2), BENCH_FLAGS, process.env)
    if (parsed.help) {
      console.log(usage())
      return 0
    }
    flags = parsed.values
  } catch (err) {
    if (err instanceof UsageError) {
      console.error(`bench: ${err.message}`)
      return 2
    }
    throw err
  }
  pinClient()
  const profiled = lastValue(flags, '--profile')
  if (profiled !== undefined) return profile(profiled, RESULTS)
  const mode = switchOn(flags, '--short') ? 'short' : 'full'
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
      serverCore: SERVER_CORE,
    },
    peers: [],
  }
  const only = lastValue(flags, '--only')
  const chosen = PEERS.filter((p) => !only || p.name.startsWith(only) || p.lane.startsWith(only))
  for (const { lane } of LANES) {
    const peers = chosen.filter((p) => p.lane === lane)
    if (peers.length > 0) report.peers.push(...(await measureLane(peers, plan)))
  }
  mkdirSync(RESULTS, { recursive: true })
  const markdown = renderMarkdown(report)
  const base = mode === 'full' ? 'latest' : 'short'
  writeFileSync(`${RESULTS}${base}.json`, `${JSON.stringify(report, null, 2)}\n`)
  writeFileSync(`${RESULTS}${base}.md`, markdown)
  writeCharts(report, RESULTS, mode === 'full' ? '' : 'short-')
  console.log(markdown)
  if (!only || 'cluster'.startsWith(only)) console.log(await benchCluster(mode, RESULTS))
  return 0
}

process.exitCode = await main()
