import { describe, expect, test } from 'bun:test'
import type { IdleResult, ThroughputResult } from './measure.ts'
import type { Lane, Role } from './peers.ts'
import { computeRatios } from './ratios.ts'
import type { PeerResult } from './report.ts'

const step = (concurrency: number, callsPerCpuSecond: number, p99Ms: number): ThroughputResult => ({
  concurrency,
  calls: 1,
  errors: 0,
  callsPerSecond: 1,
  p50Ms: 1,
  p99Ms,
  serverCpuSeconds: 1,
  callsPerCpuSecond,
})
const idle = (sessions: number, rssPerSessionKiB: number, marginalKiB?: number): IdleResult => ({
  sessions,
  openPerSecond: 1,
  rssPerSessionKiB,
  marginalKiB,
  idleCpuPercentPer1000: 0,
})
const peer = (lane: Lane, role: Role, throughput: ThroughputResult[], idles: IdleResult[] = []) =>
  ({
    name: role,
    lane,
    role,
    runtime: 'bun',
    throughput,
    idle: idles,
    posts: undefined,
  }) as PeerResult

describe('computeRatios', () => {
  test('compares sluice with the peers of its own lane only, at 64 clients, with the marginal memory', () => {
    const ratios = computeRatios([
      peer(
        'legacy',
        'sluice',
        [step(1, 1, 1), step(64, 8_000, 30)],
        [idle(1000, 20), idle(5000, 12, 9)],
      ),
      peer(
        'legacy',
        'raw',
        [step(1, 1, 1), step(64, 10_000, 10)],
        [idle(1000, 15), idle(5000, 7, 5)],
      ),
      peer('modern-json', 'raw', [step(64, 1, 1)]),
    ])
    expect(
      ratios.map(({ lane, against, sluice, peer, ratio, aim, met }) => ({
        lane,
        against,
        sluice,
        peer,
        ratio,
        aim,
        met,
      })),
    ).toEqual([
      {
        lane: 'legacy',
        against: 'raw',
        sluice: 8_000,
        peer: 10_000,
        ratio: 0.8,
        aim: '>= 0.7x',
        met: true,
      },
      {
        lane: 'legacy',
        against: 'raw',
        sluice: 30,
        peer: 10,
        ratio: 3,
        aim: '<= 1.5x',
        met: false,
      },
      {
        lane: 'legacy',
        against: 'raw',
        sluice: 9,
        peer: 5,
        ratio: 1.8,
        aim: '<= 1.5x',
        met: false,
      },
    ])
    expect(ratios[2]?.measure).toBe('KiB per idle legacy session (marginal)')
  })

  test('sets the SDK v2 aim at 5x and leaves out a figure a server does not have', () => {
    const ratios = computeRatios([
      peer('modern-sse', 'sluice', [step(64, 10_000, 5)]),
      peer('modern-sse', 'sdk-v2', [step(64, 2_500, 50)]),
    ])
    expect(ratios.map((r) => [r.against, r.ratio, r.aim, r.met])).toEqual([
      ['sdk-v2', 4, '>= 5x', false],
    ])
  })
})
