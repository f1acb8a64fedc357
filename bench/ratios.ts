import { LANES, type Lane, type Role } from './peers.ts'
import type { PeerResult } from './report.ts'

/** One goal of sluice, measured against a server of the same lane. */
export interface Ratio {
  lane: Lane
  /** What is compared, with its unit. */
  measure: string
  against: Role
  sluice: number
  peer: number
  ratio: number
  /** The aim, as text (`>= 0.7x`), and the test it sets. */
  aim: string
  met: boolean
}

/** Each aim: what it compares, against whom, and the bound on sluice / peer. */
const AIMS: ReadonlyArray<{
  measure: 'cpu' | 'p99' | 'idle'
  against: Role
  bound: number
  atLeast: boolean
}> = [
  { measure: 'cpu', against: 'raw', bound: 0.7, atLeast: true },
  { measure: 'p99', against: 'raw', bound: 1.5, atLeast: false },
  { measure: 'idle', against: 'raw', bound: 1.5, atLeast: false },
  { measure: 'cpu', against: 'sdk-v2', bound: 5, atLeast: true },
  // The SDK v1 on Node, with the aims it had before the per-lane peers.
  { measure: 'cpu', against: 'sdk-v1', bound: 10, atLeast: true },
  { measure: 'idle', against: 'sdk-v1', bound: 0.33, atLeast: false },
]

/** The row at concurrency 64 (the highest measured, if 64 was not). */
const at64 = (p: PeerResult) =>
  p.throughput.find((t) => t.concurrency === 64) ?? p.throughput[p.throughput.length - 1]
/**
 * Resident memory per idle stream: the marginal cost between the last two counts when there are
 * two (what one more stream costs), else the growth per stream at the one count.
 */
const idleKiB = (p: PeerResult) => {
  const last = p.idle[p.idle.length - 1]
  return last?.marginalKiB ?? last?.rssPerSessionKiB
}

function figure(p: PeerResult, measure: 'cpu' | 'p99' | 'idle'): number | undefined {
  if (measure === 'idle') return idleKiB(p)
  const row = at64(p)
  return measure === 'cpu' ? row?.callsPerCpuSecond : row?.p99Ms
}

function label(measure: 'cpu' | 'p99' | 'idle', lane: Lane, peer: PeerResult): string {
  if (measure === 'cpu') return 'calls per server CPU-second'
  if (measure === 'p99') return `p99 ms at ${at64(peer)?.concurrency} concurrent`
  const stream = LANES.find((l) => l.lane === lane)?.idleStream ?? 'stream'
  return `KiB per idle ${stream}${peer.idle.length > 1 ? ' (marginal)' : ''}`
}

/** Every ratio the results allow: sluice against each peer of its lane that has the figure. */
export function computeRatios(peers: readonly PeerResult[]): Ratio[] {
  const ratios: Ratio[] = []
  for (const { lane } of LANES) {
    const sluice = peers.find((p) => p.lane === lane && p.role === 'sluice')
    if (!sluice) continue
    for (const aim of AIMS) {
      const peer = peers.find((p) => p.lane === lane && p.role === aim.against)
      if (!peer) continue
      const s = figure(sluice, aim.measure)
      const q = figure(peer, aim.measure)
      if (s === undefined || q === undefined || !(q > 0)) continue
      const ratio = s / q
      ratios.push({
        lane,
        measure: label(aim.measure, lane, sluice),
        against: aim.against,
        sluice: s,
        peer: q,
        ratio,
        aim: `${aim.atLeast ? '>=' : '<='} ${aim.bound}x`,
        met: aim.atLeast ? ratio >= aim.bound : ratio <= aim.bound,
      })
    }
  }
  return ratios
}
