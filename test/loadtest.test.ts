import { afterEach, describe, expect, test } from 'bun:test'
import { DEFAULT_OPTIONS, type LoadtestOptions } from '../loadtest/options.ts'
import { runLoadtest } from '../loadtest/run.ts'
import { spawnServer, startLocalSluice, type Target } from '../loadtest/target.ts'

const LEAKY = new URL('./fixtures/leaky-server.ts', import.meta.url).pathname

const small: LoadtestOptions = {
  ...DEFAULT_OPTIONS,
  scenarios: ['storm'],
  stormConnections: 300,
  stormConcurrency: 50,
  seed: 1234,
  settleTimeoutMs: 15_000,
  idleWindowMs: 2_000,
  // A verdict on a machine busy with other tests: generous, but a spinning core is ~100%.
  maxIdleCpuPercent: 20,
}

let target: Target | undefined
afterEach(async () => {
  await target?.stop()
  target = undefined
})

describe('the load tester', () => {
  test('a small storm against sluice passes, and every phase ran', async () => {
    target = await startLocalSluice([])
    const report = await runLoadtest(target, small)
    const storm = report.scenarios[0]
    expect(storm?.verdict.checks.filter((c) => !c.passed)).toEqual([])
    expect(report.passed).toBe(true)
    expect(storm?.figures.aborted).toBe(300)
    for (const phase of [
      'before_request',
      'before_headers',
      'after_endpoint',
      'sleep_in_flight',
      'graceful_close',
    ]) {
      expect(storm?.figures[`phase_${phase}`]).toBeGreaterThan(0)
    }
  }, 60_000)

  test('a small storm over Streamable HTTP passes once abandoned sessions reach their idle TTL', async () => {
    target = await startLocalSluice(['--session-ttl-ms', '2000'])
    const report = await runLoadtest(target, {
      ...small,
      transport: 'streamable',
      stormConnections: 200,
    })
    const storm = report.scenarios[0]
    expect(storm?.verdict.checks.filter((c) => !c.passed)).toEqual([])
    expect(storm?.figures.aborted).toBe(200)
  }, 60_000)

  test('a small storm over 2026-07-28 passes: requests in flight and listen streams back to 0', async () => {
    target = await startLocalSluice([])
    const report = await runLoadtest(target, {
      ...small,
      transport: 'modern',
      stormConnections: 200,
    })
    const storm = report.scenarios[0]
    expect(storm?.verdict.checks.filter((c) => !c.passed)).toEqual([])
    const names = storm?.verdict.checks.map((c) => c.name)
    expect(names).toContain('2026 requests in flight back to baseline')
    expect(names).toContain('listen streams back to baseline')
    expect(storm?.figures.aborted).toBe(200)
    expect(storm?.figures.phase_sleep_in_flight).toBeGreaterThan(0)
    // The close-to-cancellation time was measured for both kinds of abort (a bound, not a speed).
    expect(typeof storm?.figures.cancelMsP50_sse).toBe('number')
    expect(typeof storm?.figures.cancelMsP50_json).toBe('number')
  }, 60_000)

  test('fails the verdict against a server that never cleans up its sessions', async () => {
    target = await spawnServer(LEAKY, ['--mode', 'leak'])
    const report = await runLoadtest(target, {
      ...small,
      stormConnections: 100,
      settleTimeoutMs: 1_000,
    })
    const failed = report.scenarios[0]?.verdict.checks.filter((c) => !c.passed).map((c) => c.name)
    expect(report.passed).toBe(false)
    expect(failed).toContain('sessions back to baseline')
    expect(failed).toContain('SSE streams back to baseline')
  }, 60_000)

  test('fails the verdict against a server that spins after the storm', async () => {
    target = await spawnServer(LEAKY, ['--mode', 'spin'])
    const report = await runLoadtest(target, { ...small, stormConnections: 100 })
    const failed = report.scenarios[0]?.verdict.checks.filter((c) => !c.passed)
    expect(report.passed).toBe(false)
    expect(failed?.map((c) => c.name)).toEqual(['idle CPU over 2 s'])
    // Above the verdict's limit; how far above depends on how much of a core the box leaves the
    // spinning server, so no fixed figure beyond that.
    expect(failed?.[0]?.value).toBeGreaterThan(small.maxIdleCpuPercent)
  }, 60_000)
})
