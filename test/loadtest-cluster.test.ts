import { afterEach, describe, expect, test } from 'bun:test'
import { DEFAULT_OPTIONS, type LoadtestOptions } from '../loadtest/options.ts'
import { ServerProbe } from '../loadtest/probe.ts'
import { runLoadtest } from '../loadtest/run.ts'
import { startLocalSluice, type Target } from '../loadtest/target.ts'
import { type RedisProcess, startRedis, waitFor } from './cluster/redis-server.ts'

/** A short bounded run: rpc (every call relayed) then a storm, over two instances. */
const small: LoadtestOptions = {
  ...DEFAULT_OPTIONS,
  scenarios: ['rpc', 'storm'],
  rpcSessions: 4,
  rpcDurationMs: 1_000,
  stormConnections: 120,
  stormConcurrency: 30,
  seed: 4321,
  settleTimeoutMs: 15_000,
  idleWindowMs: 2_000,
  // A verdict on a machine busy with other tests: generous, but a spinning core is ~100%.
  maxIdleCpuPercent: 20,
}

let redis: RedisProcess | undefined
let targets: Target[] = []
afterEach(async () => {
  await Promise.all(targets.map((t) => t.stop()))
  targets = []
  await redis?.stop()
  redis = undefined
})

async function twoInstances(extra: string[] = []): Promise<[Target, Target]> {
  redis = await startRedis()
  const args = ['--redis-url', redis.url, '--session-ttl-ms', '2000', ...extra]
  targets = [await startLocalSluice(args), await startLocalSluice(args)]
  // An instance says `listening` before it reaches Redis; relays to it get 503 until then.
  for (const t of targets) {
    await waitFor(`${t.base.href} to reach Redis`, async () =>
      /^sluice_redis_connected(\{[^}]*\})? 1$/m.test(
        await (await fetch(new URL('/metrics', t.base))).text(),
      ),
    )
  }
  return targets as [Target, Target]
}

const relays = async (members: Target[]) =>
  (await new ServerProbe(members).metrics()).get('sluice_relays_total') ?? 0

describe('the load tester against two instances sharing Redis', () => {
  for (const transport of ['sse', 'streamable'] as const) {
    test(`${transport}: every POST on the other instance than its stream, and the summed verdict passes`, async () => {
      const members = await twoInstances()
      const before = await relays(members)
      const report = await runLoadtest(members, { ...small, transport })
      for (const scenario of report.scenarios) {
        expect(scenario.verdict.checks.filter((c) => !c.passed)).toEqual([])
      }
      expect(report.passed).toBe(true)
      expect(report.target).toBe(members.map((t) => t.base.href).join(','))
      const rpc = report.scenarios.find((s) => s.name === 'rpc')
      expect(rpc?.figures.errors).toBe(0)
      // Every rpc call was a POST on the instance that does not hold its session: relayed.
      expect((await relays(members)) - before).toBeGreaterThanOrEqual(Number(rpc?.figures.calls))
    }, 90_000)
  }

  test('modern: 2026-07-28 clients take the instances in turn, and both serve calls', async () => {
    const members = await twoInstances()
    const report = await runLoadtest(members, { ...small, scenarios: ['rpc'], transport: 'modern' })
    expect(report.passed).toBe(true)
    for (const member of members) {
      const calls = [...(await new ServerProbe(member).metrics())]
        .filter(
          ([series]) => series.startsWith('sluice_tool_calls_total{') && series.includes('"echo"'),
        )
        .reduce((sum, [, value]) => sum + value, 0)
      expect(calls).toBeGreaterThan(0)
    }
  }, 60_000)

  test('--post-target same keeps each session on one instance: nothing is relayed', async () => {
    const members = await twoInstances()
    const before = await relays(members)
    const report = await runLoadtest(members, {
      ...small,
      scenarios: ['rpc'],
      transport: 'streamable',
      postTarget: 'same',
    })
    expect(report.passed).toBe(true)
    expect(await relays(members)).toBe(before)
  }, 60_000)
})
