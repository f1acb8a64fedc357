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
})
