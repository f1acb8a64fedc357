import { describe, expect, test } from 'bun:test'
import { TimerWheel, type WheelEntry } from './timer-wheel.ts'

/** An entry that records its visits and asks to come back `againMs` later (or leaves). */
function entry(againMs?: number) {
  const visits: number[] = []
  const visited = Promise.withResolvers<number>()
  const e: WheelEntry & { visits: number[]; visited: Promise<number> } = {
    wheelTick: -1,
    visits,
    visited: visited.promise,
    onWheelDue(nowMs) {
      visits.push(nowMs)
      visited.resolve(nowMs)
      return againMs === undefined ? undefined : nowMs + againMs
    },
  }
  return e
}

/** Polls `condition` every few ms, for at most `boundMs`. */
async function until(condition: () => boolean, boundMs = 2_000): Promise<void> {
  const end = performance.now() + boundMs
  while (!condition()) {
    if (performance.now() > end) throw new Error('condition not met in time')
    await Bun.sleep(5)
  }
}

describe('TimerWheel', () => {
  test('visits an entry once, not before its due time, then lets it go', async () => {
    const wheel = new TimerWheel({ tickMs: 5, slots: 64 })
    const e = entry()
    const due = performance.now() + 20
    wheel.schedule(e, due)
    expect(wheel.size).toBe(1)
    const at = await e.visited
    expect(at).toBeGreaterThanOrEqual(due)
    expect(e.visits).toHaveLength(1)
    expect(wheel.size).toBe(0)
    expect(e.wheelTick).toBe(-1)
    // The interval stops at the first tick that finds the wheel empty.
    await until(() => !wheel.running)
  })

  test('an entry that names its next due time stays held and is visited again', async () => {
    const wheel = new TimerWheel({ tickMs: 5, slots: 64 })
    const e = entry(10)
    wheel.schedule(e, performance.now())
    await until(() => e.visits.length >= 3)
    expect(wheel.size).toBe(1)
    wheel.cancel(e)
    expect(wheel.size).toBe(0)
    expect(e.wheelTick).toBe(-1)
  })

  test('a cancelled entry is never visited, and cancelling twice is harmless', async () => {
    const wheel = new TimerWheel({ tickMs: 5, slots: 64 })
    const cancelled = entry()
    const witness = entry()
    const now = performance.now()
    wheel.schedule(cancelled, now + 10)
    wheel.schedule(witness, now + 30)
    wheel.cancel(cancelled)
    wheel.cancel(cancelled)
    await witness.visited
    expect(cancelled.visits).toHaveLength(0)
    expect(wheel.size).toBe(0)
  })

  test('scheduling earlier moves an entry; scheduling later leaves it where it is', async () => {
    const wheel = new TimerWheel({ tickMs: 5, slots: 1024 })
    const e = entry()
    const now = performance.now()
    wheel.schedule(e, now + 60_000)
    const far = e.wheelTick
    wheel.schedule(e, now + 20)
    const near = e.wheelTick
    expect(near).toBeLessThan(far)
    wheel.schedule(e, now + 30_000)
    expect(e.wheelTick).toBe(near)
    expect(wheel.size).toBe(1)
    await e.visited
    expect(wheel.size).toBe(0)
  })

  test('an entry due beyond one turn waits in the last slot of the turn and is visited again', async () => {
    const wheel = new TimerWheel({ tickMs: 5, slots: 8 })
    const visits: number[] = []
    const due = performance.now() + 100
    const e: WheelEntry = {
      wheelTick: -1,
      onWheelDue(nowMs) {
        visits.push(nowMs)
        return nowMs >= due ? undefined : due
      },
    }
    wheel.schedule(e, due)
    await until(() => wheel.size === 0)
    // One turn is 40 ms: it was looked at on the way and let go only once due.
    expect(visits.length).toBeGreaterThan(1)
    expect(visits.at(-1)!).toBeGreaterThanOrEqual(due)
  })

  test('a callback may cancel another entry of the same tick, which is then not visited', async () => {
    const wheel = new TimerWheel({ tickMs: 5, slots: 64 })
    const due = performance.now() + 10
    const second = entry()
    const first: WheelEntry & { seen: boolean } = {
      wheelTick: -1,
      seen: false,
      onWheelDue() {
        this.seen = true
        wheel.cancel(second)
        return undefined
      },
    }
    wheel.schedule(first, due)
    wheel.schedule(second, due)
    await until(() => first.seen)
    expect(second.visits).toHaveLength(0)
    expect(wheel.size).toBe(0)
  })

  test('an entry that schedules itself later from its callback is still visited when it says', async () => {
    const wheel = new TimerWheel({ tickMs: 5, slots: 1024 })
    const visits: number[] = []
    const e: WheelEntry = {
      wheelTick: -1,
      onWheelDue(nowMs) {
        visits.push(nowMs)
        if (visits.length > 1) return undefined
        // As a stream's keepalive does: its frame goes out at once and schedules the deadline.
        wheel.schedule(e, nowMs + 60_000)
        return nowMs + 20
      },
    }
    wheel.schedule(e, performance.now())
    await until(() => visits.length === 2)
    expect(visits[1]! - visits[0]!).toBeLessThan(60_000)
    expect(wheel.size).toBe(0)
  })
})
