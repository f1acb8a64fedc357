import { mkdirSync, readdirSync } from 'node:fs'
import { measureThroughput } from './measure.ts'
import { LANES, type Lane, laneInfo, PEERS } from './peers.ts'

const PROFILE_CONCURRENCY = 64
const PROFILE_MS = 10_000

/**
 * `bun run bench --profile LANE`: sluice, then the lane's raw peer, each under 64 concurrent
 * echo callers for 10 s with `bun --cpu-prof-md`; the Markdown profiles (written when the server
 * exits) land in `dir/profile-LANE/`, beside a line of calls per CPU-second for each.
 */
export async function profile(lane: string, dir: string): Promise<number> {
  if (!LANES.some((l) => l.lane === lane)) {
    console.error(`bench: --profile takes one of ${LANES.map((l) => l.lane).join(', ')}`)
    return 2
  }
  const out = `${dir}profile-${lane}/`
  mkdirSync(out, { recursive: true })
  const { transport } = laneInfo(lane as Lane)
  for (const role of ['sluice', 'raw'] as const) {
    const peer = PEERS.find((p) => p.lane === lane && p.role === role)!
    const target = await peer.start([
      '--cpu-prof-md',
      `--cpu-prof-dir=${out}`,
      `--cpu-prof-name=${role}.md`,
    ])
    try {
      const t = await measureThroughput(target, transport, PROFILE_CONCURRENCY, PROFILE_MS)
      console.log(
        `${peer.name}: ${Math.round(t.callsPerCpuSecond)} calls per CPU-second, p99 ${t.p99Ms.toFixed(2)} ms at ${PROFILE_CONCURRENCY}`,
      )
    } finally {
      await target.stop()
    }
  }
  console.log(
    `profiles: ${readdirSync(out)
      .map((f) => `${out}${f}`)
      .join(', ')}`,
  )
  return 0
}
