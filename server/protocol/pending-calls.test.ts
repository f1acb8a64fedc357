import { describe, expect, test } from 'bun:test'
import { CallCancelledError, PendingCalls } from './pending-calls.ts'

describe('PendingCalls', () => {
  test('a signal asked for before the cancel fires with its reason', () => {
    const calls = new PendingCalls()
    const call = calls.begin(1)
    const reasons: unknown[] = []
    call?.signal.addEventListener('abort', () => reasons.push(call.signal.reason))
    expect(calls.cancel(1, 'user stopped it')).toBe(true)
    expect(call?.aborted).toBe(true)
    expect(reasons).toHaveLength(1)
    expect(reasons[0]).toBeInstanceOf(CallCancelledError)
    expect((reasons[0] as Error).message).toBe('user stopped it')
  })

  test('a signal first asked for after the cancel is already aborted with its reason', () => {
    const calls = new PendingCalls()
    const call = calls.begin('a')
    calls.cancelAll('session closed')
    expect(call?.aborted).toBe(true)
    expect(call?.signal.aborted).toBe(true)
    expect((call?.signal.reason as Error | undefined)?.message).toBe('session closed')
    expect(calls.size).toBe(0)
  })

  test('an id in flight cannot begin twice; a call that ended is not cancelled', () => {
    const calls = new PendingCalls()
    const call = calls.begin(7)
    expect(calls.begin(7)).toBeUndefined()
    if (call) calls.end(7, call)
    expect(calls.cancel(7, 'late')).toBe(false)
    expect(call?.aborted).toBe(false)
    expect(call?.signal.aborted).toBe(false)
  })

  test('many calls in flight at once are each tracked, ended and cancelled by their id', () => {
    const calls = new PendingCalls()
    const began = [1, 2, 'three', 4].map((id) => ({ id, call: calls.begin(id) }))
    expect(calls.size).toBe(4)
    expect(calls.begin('three')).toBeUndefined()
    const first = began[0]?.call
    if (first) calls.end(1, first)
    expect(calls.has(1)).toBe(false)
    expect(calls.size).toBe(3)
    // The first slot is free again: a new call takes it while the others stay tracked.
    const again = calls.begin(1)
    expect(calls.size).toBe(4)
    expect(calls.cancel(2, 'stop two')).toBe(true)
    expect(began[1]?.call?.aborted).toBe(true)
    expect(calls.has(2)).toBe(false)
    calls.cancelAll('closed')
    expect([again?.aborted, began[2]?.call?.aborted, began[3]?.call?.aborted]).toEqual([
      true,
      true,
      true,
    ])
    expect(first?.aborted).toBe(false)
    expect(calls.size).toBe(0)
  })
})
