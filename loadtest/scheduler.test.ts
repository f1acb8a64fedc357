import { describe, expect, test } from 'bun:test'
import { runPool } from './pool.ts'
import { planStorm, STORM_PHASES } from './scenarios/storm.ts'

describe('planStorm', () => {
  test('the same seed gives the same plan; another seed another', () => {
    expect(planStorm(500, 42)).toEqual(planStorm(500, 42))
    expect(planStorm(500, 42)).not.toEqual(planStorm(500, 43))
  })

  test('mixes every phase', () => {
    const plan = planStorm(5_000, 7)
    for (const phase of Object.keys(STORM_PHASES)) {
      const share = plan.filter((p) => p === phase).length / plan.length
      expect(share).toBeGreaterThan(0.15)
      expect(share).toBeLessThan(0.25)
    }
  })
})

describe('runPool', () => {
  test('runs every task once, never more than `concurrency` at a time', async () => {
    let running = 0
    let peak = 0
    const seen: number[] = []
    const result = await runPool({ count: 50, concurrency: 4, timeCapMs: 60_000 }, async (i) => {
      running++
      peak = Math.max(peak, running)
      seen.push(i)
      await Bun.sleep(1)
      running--
    })
    expect(result).toMatchObject({ started: 50, completed: 50, failed: 0, timedOut: false })
    expect(seen.sort((a, b) => a - b)).toEqual(Array.from({ length: 50 }, (_, i) => i))
    expect(peak).toBe(4)
  })

  test('counts failures and stops starting tasks at its time cap', async () => {
    const failing = await runPool({ count: 10, concurrency: 2, timeCapMs: 60_000 }, async (i) => {
      if (i % 2) throw new Error('odd')
    })
    expect(failing).toMatchObject({ completed: 5, failed: 5 })

    const capped = await runPool({ count: 1_000_000, concurrency: 2, timeCapMs: 50 }, () =>
      Bun.sleep(5),
    )
    expect(capped.timedOut).toBe(true)
    expect(capped.started).toBeLessThan(1_000_000)
  })
})
