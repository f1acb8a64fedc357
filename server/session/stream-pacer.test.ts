import { describe, expect, test } from 'bun:test'
import { StreamPacer } from './stream-pacer.ts'
import { timerWheel } from './timer-wheel.ts'

describe('StreamPacer', () => {
  test('calls onQuiet when nothing was handed over for the keepalive interval', async () => {
    const { promise, resolve } = Promise.withResolvers<void>()
    const pacer = new StreamPacer({
      keepaliveMs: 20,
      sendDeadlineMs: 10_000,
      onQuiet: resolve,
      onDeadline: () => {},
    })
    await promise
    pacer.stop()
  })

  test('calls onDeadline when a handed-over frame is never taken', async () => {
    const { promise, resolve } = Promise.withResolvers<void>()
    const pacer = new StreamPacer({
      keepaliveMs: 60_000,
      sendDeadlineMs: 20,
      onQuiet: () => {},
      onDeadline: resolve,
    })
    pacer.frameHandedOver()
    await promise
    pacer.stop()
  })

  test('does not evict a reader that takes its frames', async () => {
    let evicted = false
    const pacer = new StreamPacer({
      keepaliveMs: 60_000,
      sendDeadlineMs: 30,
      onQuiet: () => {},
      onDeadline: () => {
        evicted = true
      },
    })
    for (let i = 0; i < 5; i++) {
      pacer.frameHandedOver()
      pacer.frameTaken()
      await Bun.sleep(15)
    }
    // Wait past the deadline with nothing pending.
    await Bun.sleep(60)
    pacer.stop()
    expect(evicted).toBe(false)
  })

  test('holds one entry of the process wheel, however many frames, until stopped', () => {
    const before = timerWheel.size
    const pacer = new StreamPacer({
      keepaliveMs: 60_000,
      sendDeadlineMs: 60_000,
      onQuiet: () => {},
      onDeadline: () => {},
    })
    for (let i = 0; i < 100; i++) {
      pacer.frameHandedOver()
      pacer.frameTaken()
    }
    expect(timerWheel.size).toBe(before + 1)
    pacer.stop()
    pacer.stop()
    expect(timerWheel.size).toBe(before)
  })

  test('stop() cancels both timers', async () => {
    let fired = false
    const pacer = new StreamPacer({
      keepaliveMs: 10,
      sendDeadlineMs: 10,
      onQuiet: () => {
        fired = true
      },
      onDeadline: () => {
        fired = true
      },
    })
    pacer.frameHandedOver()
    pacer.stop()
    await Bun.sleep(40)
    expect(fired).toBe(false)
  })
})
